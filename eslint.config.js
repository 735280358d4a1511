import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// ---- Floors (README, "Layering"): schemas → packages → services → deploy → test and bench. A
// folder imports only floors below its own (and its own floor, except that no service imports
// another service). Checked by package name: every workspace's name is mapped to its floor, read
// from the workspaces' package.json files at load time, so a new package is covered as it is added.

/** Lowest first. `top` is what drives the whole pipeline from outside: cross-service tests, benchmarks. */
const floors = ['schemas', 'packages', 'services', 'deploy', 'top']
const floorOfFolder = {
  schemas: 'schemas',
  packages: 'packages',
  services: 'services',
  deploy: 'deploy',
  test: 'top',
  bench: 'top',
}

/** Every workspace: its name, folder and floor. */
function workspacePackages() {
  const root = import.meta.dirname
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const dirs = workspaces.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern]
    const parent = pattern.slice(0, -2)
    if (!existsSync(join(root, parent))) return []
    return readdirSync(join(root, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${parent}/${entry.name}`)
  })
  return dirs.flatMap((dir) => {
    const manifest = join(root, dir, 'package.json')
    if (!existsSync(manifest)) return []
    const floor = floorOfFolder[dir.split('/')[0]]
    if (floor === undefined) throw new Error(`eslint.config.js: no floor for the workspace ${dir}`)
    const { name, dependencies = {}, devDependencies = {} } = JSON.parse(readFileSync(manifest, 'utf8'))
    const uses = Object.keys({ ...dependencies, ...devDependencies }).filter((dep) =>
      dep.startsWith('@audit-pipeline/'),
    )
    return [{ name, dir, floor, uses }]
  })
}

const workspaces = workspacePackages()

/**
 * Below even schemas/: the error base every floor throws (AuditError) and the side-effect-free test
 * helpers. Each must stay a leaf, using no other workspace, or it would carry a floor above into
 * schemas/.
 */
const foundation = ['@audit-pipeline/errors', '@audit-pipeline/testing']
for (const name of foundation) {
  const pkg = workspaces.find((candidate) => candidate.name === name)
  if (pkg === undefined || pkg.uses.length > 0) {
    throw new Error(`eslint.config.js: ${name} must be a workspace using no other (it uses ${pkg?.uses})`)
  }
}
const floorRank = (floor) => floors.indexOf(floor)
const sourceFiles = (dir) => [`${dir}/**/*.ts`, `${dir}/**/*.js`, `${dir}/**/*.mjs`]

/** The rule's options for one folder: the deep-import ban every file has, and its forbidden packages. */
function restrictedImports(forbidden) {
  return [
    'error',
    {
      paths: forbidden.map(({ name, message }) => ({ name, message })),
      patterns: [
        {
          group: ['@audit-pipeline/*/src/*', '@audit-pipeline/*/dist/*'],
          message: "import the package's entry point",
        },
        ...forbidden.map(({ name, message }) => ({ group: [`${name}/*`], message })),
      ],
    },
  ]
}

/** One block per floor folder (and one per service, which may not import the other services). */
function layeringBlocks() {
  const above = (floor) =>
    workspaces.filter((pkg) => floorRank(pkg.floor) > floorRank(floor) && !foundation.includes(pkg.name))
  const forbid = (from, packages, why) =>
    packages.map((pkg) => ({
      name: pkg.name,
      message: `${from} may not import ${pkg.name} (${pkg.dir}): ${why} (README, "Layering")`,
    }))
  const belowOnly = 'a floor imports only the floors below it'
  const floorBlock = (folder, floor) => ({
    files: sourceFiles(folder),
    rules: { 'no-restricted-imports': restrictedImports(forbid(`${folder}/`, above(floor), belowOnly)) },
  })
  const services = workspaces.filter((pkg) => pkg.floor === 'services')
  return [
    floorBlock('schemas', 'schemas'),
    floorBlock('packages', 'packages'),
    ...services.map((service) => ({
      files: sourceFiles(service.dir),
      rules: {
        'no-restricted-imports': restrictedImports([
          ...forbid(
            service.dir,
            services.filter((other) => other !== service),
            'no service imports another; move what they share into packages/',
          ),
          ...forbid(service.dir, above('services'), belowOnly),
        ]),
      },
    })),
    floorBlock('deploy', 'deploy'),
  ]
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.stack/**', '.turbo/**', 'coverage/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: { allowDefaultProject: ['*.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // An un-awaited commit or insert is a data-loss bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // No deep imports into another package's internals: use its public entry point. (The floor
      // blocks below repeat it: a later block's options replace an earlier one's.)
      'no-restricted-imports': restrictedImports([]),
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: globals.node },
  },
  ...layeringBlocks(),
)
