import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve as resolvePath } from 'node:path'
import { defineConfig } from 'vitest/config'

/**
 * Tests run the workspace's TypeScript as written, without a build: each workspace package's
 * `exports["."].source` entry is aliased. (An alias rather than a `source` resolve condition,
 * because vitest resolves globalSetup files without the configured conditions.)
 */
function workspaceSourceAliases() {
  const root = import.meta.dirname
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    workspaces: string[]
  }
  const dirs = workspaces.flatMap((pattern) =>
    pattern.endsWith('/*')
      ? !existsSync(join(root, pattern.slice(0, -2)))
        ? []
        : readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
            .filter((entry) => entry.isDirectory())
            .map((entry) => join(pattern.slice(0, -2), entry.name))
      : [pattern],
  )
  return dirs.flatMap((dir) => {
    const manifest = join(root, dir, 'package.json')
    if (!existsSync(manifest)) return []
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
      name: string
      exports?: { '.'?: { source?: string } }
    }
    const source = pkg.exports?.['.']?.source
    if (!source) return []
    const escaped = pkg.name.replace(/[/\-.@]/g, (c) => `\\${c}`)
    return [{ find: new RegExp(`^${escaped}$`), replacement: resolvePath(root, dir, source) }]
  })
}

const resolve = { alias: workspaceSourceAliases() }

// CI asks for a JSON report to print a plain "N passed, N failed" line (.ci/run).
const jsonReport = process.env['VITEST_JSON_REPORT']

export default defineConfig({
  resolve,
  test: {
    ...(jsonReport && { reporters: ['default', 'json'], outputFile: { json: jsonReport } }),
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['{schemas,packages,services,deploy,bench}/**/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        resolve,
        test: {
          name: 'integration',
          include: ['{schemas,packages,services,deploy}/**/src/**/*.int.test.ts', 'test/**/*.test.ts'],
          // Fault drills stop brokers and freeze processes: they run alone (npm run test:faults).
          exclude: ['**/node_modules/**', 'test/faults/**/*.fault.test.ts'],
          globalSetup: ['test/setup/localStack.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve,
        test: {
          // AUDIT_STACK_BROKERS=1 (npm run test:faults runs both): a stack of its own, one drill at a time.
          name: 'faults',
          include: ['test/faults/*.fault.test.ts'],
          globalSetup: ['test/setup/localStack.ts'],
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 300_000,
        },
      },
      {
        resolve,
        test: {
          // AUDIT_STACK_BROKERS=3: the cluster drills.
          name: 'faults-cluster',
          include: ['test/faults/cluster/*.fault.test.ts'],
          globalSetup: ['test/setup/localStack.ts'],
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
})
