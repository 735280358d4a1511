// docker-compose.yml and deploy/docker/Dockerfile against the services they run: a renamed
// setting, bin or config file fails here rather than in a container that never starts. Reads
// repository files only (no Docker engine needed).
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { loadAlertingConfig, parseRules } from '@audit-pipeline/alerting'
import { loadSinkConfig } from '@audit-pipeline/clickhouse-sink'
import { pipelineTopics } from '@audit-pipeline/config'
import { loadForwarderConfig, parseDestinations } from '@audit-pipeline/forwarder'
import { loadNormalizerConfig, parseRoutes } from '@audit-pipeline/normalizer'
import { loadQueryApiConfig } from '@audit-pipeline/query-api'
import { testSigningKeyFile } from '@audit-pipeline/testing'
import {
  interpolationsIn,
  isReadOnly,
  mountedFiles,
  mountedPath,
  parseComposeFile,
  readComposeFile,
  serviceEnvironment,
  type ComposeService,
} from './composeFile.js'
import {
  execForm,
  exposedPorts,
  imageEnvironment,
  lastInstruction,
  parseDockerfile,
  targetInstructions,
} from './dockerfile.js'

const repoRoot = resolve(import.meta.dirname, '../../..')
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8')

type Env = Record<string, string | undefined>
type ReadFile = (path: string) => string

/** A config file's own check, given the service's environment and its mounted files. */
type FileCheck = (file: string, text: string, env: Env, readMounted: ReadFile) => unknown

type PipelineService = {
  name: string
  /** Loads the service's configuration as its main.ts does; throws ConfigError when wrong. */
  load: (env: Env, readMounted: ReadFile) => unknown
  /** Node flags the service runs with (its README says why). */
  nodeFlags?: string[]
  /** Settings naming files, and how each file is checked beyond being readable. */
  files: Record<string, FileCheck>
}

const pipelineServices: PipelineService[] = [
  {
    name: 'normalizer',
    load: (env, readFile) => loadNormalizerConfig(env, { readFile }),
    files: { NORMALIZER_ROUTES_FILE: (file, text) => parseRoutes(text, { file }) },
  },
  {
    name: 'clickhouse-sink',
    // The signing key is read from the mounted folder: copied out of it, so the check proves the
    // mount holds it.
    load: (env, readMounted) => {
      const keyFile = env['SINK_SIGNING_KEY_FILE']
      if (keyFile === undefined) return loadSinkConfig(env)
      const copy = join(mkdtempSync(join(tmpdir(), 'compose-sink-key-')), 'key.pem')
      writeFileSync(copy, readMounted(keyFile), { mode: 0o600 })
      return loadSinkConfig({ ...env, SINK_SIGNING_KEY_FILE: copy })
    },
    files: {},
  },
  {
    name: 'forwarder',
    load: (env) => loadForwarderConfig(env),
    nodeFlags: ['--max-semi-space-size=64'],
    files: {
      FORWARDER_DESTINATIONS_FILE: (file, text, env, readFile) =>
        parseDestinations(text, { file, env, readFile, defaultHostname: 'forwarder' }),
    },
  },
  {
    name: 'alerting',
    load: (env) => loadAlertingConfig(env),
    files: {
      ALERTING_RULES_FILE: (file, text) => parseRules(text, file),
      // The receivers' parser is the service's own; their secrets are checked below.
      ALERTING_RECEIVERS_FILE: (_file, text) => parseYaml(text) as unknown,
    },
  },
  {
    name: 'query-api',
    load: (env, readFile) => loadQueryApiConfig(env, readFile),
    files: { QUERY_API_KEYS_FILE: (_file, text) => JSON.parse(text) as unknown },
  },
]

const composeText = read('docker-compose.yml')
/** The compose file as written, `${…}` uninterpolated: where a default would show. */
const composeAsWritten = parseComposeFile(composeText)
/** The variables compose requires (`${X:?…}`): the secrets, and the API keys file. */
const requiredVariables = [
  ...new Set(
    interpolationsIn(composeAsWritten)
      .filter((i) => i.operator === ':?')
      .map((i) => i.variable),
  ),
].sort()

/**
 * What an operator sets before `docker compose up` (deploy/docker/README.md, "Secrets"), made up
 * here: fresh random secrets, and the example keys file for the API keys (the tests only load it).
 */
const operatorEnv: Record<string, string> = Object.fromEntries(
  requiredVariables.map((variable) => [
    variable,
    variable.endsWith('_WEBHOOK_SECRET')
      ? `whsec_${randomBytes(32).toString('base64')}`
      : variable === 'AUDIT_QUERY_API_KEYS_DIR'
        ? './deploy/query-api/example-keys'
        : variable === 'AUDIT_SIGNING_KEY_DIR'
          ? dirname(testSigningKeyFile())
          : randomBytes(24).toString('hex'),
  ]),
)

const compose = readComposeFile(composeText, operatorEnv)

/**
 * Names that hold a secret, or a file of them (the API keys): none may have a default. A `*_FILE`
 * setting itself holds a path in the container; what it names is checked by its mount.
 */
const secretLike = /PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|(^|_)API_KEY|KEYS_FILE/

function composeService(name: string): ComposeService {
  const service = compose.services[name]
  if (!service) throw new Error(`docker-compose.yml has no service ${name}`)
  return service
}

function dockerfileOf(service: ComposeService) {
  const path = join(service.build?.context ?? '.', service.build?.dockerfile ?? 'Dockerfile')
  return { path, stages: parseDockerfile(read(path)) }
}

/** What the container sees: its image's environment, then compose's. */
function containerOf(name: string) {
  const service = composeService(name)
  const { stages } = dockerfileOf(service)
  const instructions = targetInstructions(stages, service.build?.target ?? '')
  const composeEnv = serviceEnvironment(service)
  const files = mountedFiles(service, repoRoot)
  const readMounted: ReadFile = (path) => {
    const repoPath = mountedPath(files, path)
    if (!repoPath) throw new Error(`ENOENT: ${path} is not mounted into the ${name} container`)
    return readFileSync(repoPath, 'utf8')
  }
  return {
    service,
    instructions,
    composeEnv,
    env: { ...imageEnvironment(instructions), ...composeEnv },
    files,
    readMounted,
  }
}

/** The packages patches/ fixes: `kafkajs+2.2.4.patch`, `@scope+name+1.0.0.patch` (patch-package's names). */
function patchedPackages(): string[] {
  const names = readdirSync(join(repoRoot, 'patches'))
    .filter((file) => file.endsWith('.patch'))
    .map((file) => file.slice(0, -'.patch'.length).split('+').slice(0, -1).join('/'))
  expect(names.length, 'patches/ holds patch-package patches').toBeGreaterThan(0)
  return names
}

/** Environment variables a config file names for its secrets (`secretEnv:`, `token_env:`, …). */
function secretVariables(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(secretVariables)
  if (!value || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, item]) =>
    (key === 'secretEnv' || key.endsWith('_env')) && typeof item === 'string'
      ? [item]
      : secretVariables(item),
  )
}

/** Loads, and says the config error rather than only that there was one. */
function loads(service: PipelineService, env: Env, readMounted: ReadFile) {
  try {
    return { config: service.load(env, readMounted) }
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) }
  }
}

describe.each(pipelineServices)('the $name container', (spec) => {
  const container = containerOf(spec.name)

  test('is built from a Dockerfile target of its own name', () => {
    const { path, stages } = dockerfileOf(container.service)
    expect(existsSync(join(repoRoot, path)), path).toBe(true)
    expect(container.service.build?.target).toBe(spec.name)
    expect(stages.map((stage) => stage.name)).toContain(spec.name)
  })

  test('runs its dependencies with the fixes in patches/, as npm install applies them elsewhere', () => {
    const { stages } = dockerfileOf(container.service)
    const build = targetInstructions(stages, 'build')
    expect(build).toContainEqual({ keyword: 'COPY', args: 'patches ./patches' })
    expect(build.some((i) => i.keyword === 'RUN' && i.args.startsWith('npx patch-package'))).toBe(true)
    // The production node_modules come from the service's deps stage: each patched package in it
    // is the build stage's, patched.
    const deps = container.instructions
      .filter((i) => i.keyword === 'COPY')
      .map((i) => /^--from=(\S+) \/app\/ \.\/$/.exec(i.args)?.[1])
      .find((stage) => stage?.endsWith('-deps'))
    expect(deps, 'the stage the production node_modules are copied from').toBeDefined()
    const depsCopies = targetInstructions(stages, deps!).filter((i) => i.keyword === 'COPY')
    for (const name of patchedPackages()) {
      expect(depsCopies).toContainEqual({
        keyword: 'COPY',
        args: `--from=build /app/node_modules/${name} ./node_modules/${name}`,
      })
    }
  })

  test("runs the service's bin with node, as a non-root user, and stops on SIGTERM", () => {
    const manifest = JSON.parse(read(`services/${spec.name}/package.json`)) as { bin: Record<string, string> }
    const bin = `services/${spec.name}/${manifest.bin[`audit-${spec.name}`]?.replace(/^\.\//, '')}`
    expect(existsSync(join(repoRoot, bin)), bin).toBe(true)
    const entrypoint = execForm(lastInstruction(container.instructions, 'ENTRYPOINT') ?? 'null')
    expect(entrypoint).toEqual(['node', ...(spec.nodeFlags ?? []), bin])
    expect(lastInstruction(container.instructions, 'USER')).toBe('node')
    expect(lastInstruction(container.instructions, 'STOPSIGNAL')).toBe('SIGTERM')
  })

  test("checks its health on the ops server's /healthz, which listens beyond loopback on the service's port", () => {
    const healthcheck = lastInstruction(container.instructions, 'HEALTHCHECK') ?? ''
    expect(healthcheck).toMatch(
      /CMD \["node", "-e", ".*127\.0\.0\.1:' \+ process\.env\.OPS_PORT \+ '\/healthz'/,
    )
    const { OPS_PORT: _imagePort, ...withoutImagePort } = container.env
    const defaults = loads(spec, withoutImagePort, container.readMounted)
    const config = loads(spec, container.env, container.readMounted)
    const ops = (config.config as { ops: { host: string; port: number } } | undefined)?.ops
    // The image's OPS_PORT is the service's own default, so the README's port holds in a container.
    expect(ops?.port).toBe((defaults.config as { ops: { port: number } } | undefined)?.ops.port)
    expect(ops?.host).toBe('0.0.0.0')
    expect(exposedPorts(container.instructions)).toContain(ops?.port)
    const published = (container.service.ports ?? []).map((port) => Number(port.split(':').at(-1)))
    expect(published).toContain(ops?.port)
  })

  test("loads compose's settings without a configuration error", () => {
    expect(loads(spec, container.env, container.readMounted).error).toBeUndefined()
  })

  test('mounts each file a setting names, read-only, and the file passes its check', () => {
    for (const [setting, check] of Object.entries(spec.files)) {
      const file = container.env[setting]
      expect(file, setting).toBeDefined()
      expect(mountedPath(container.files, file!), `${setting}=${file} is mounted`).toBeDefined()
      expect(() =>
        check(file!, container.readMounted(file!), container.env, container.readMounted),
      ).not.toThrow()
    }
    for (const volume of container.service.volumes ?? []) expect(isReadOnly(volume), volume).toBe(true)
  })

  test('sets every secret its config files name, as a variable the service accepts', () => {
    const named = [...container.files.values()]
      .filter((path) => /\.ya?ml$/.test(path))
      .flatMap((path) => secretVariables(parseYaml(readFileSync(path, 'utf8'))))
    for (const variable of named) expect(container.composeEnv[variable], variable).toBeTruthy()
    // Set alongside the service's own settings, a secret must not be refused as an unknown one.
    expect(loads(spec, container.env, container.readMounted).error).toBeUndefined()
  })

  test('sets only variables that change the configuration (a misspelt or dropped setting fails)', () => {
    const secrets = new Set(
      [...container.files.values()]
        .filter((path) => /\.ya?ml$/.test(path))
        .flatMap((path) => secretVariables(parseYaml(readFileSync(path, 'utf8')))),
    )
    const full = JSON.stringify(loads(spec, container.env, container.readMounted))
    for (const variable of Object.keys(container.composeEnv).filter((name) => !secrets.has(name))) {
      const { [variable]: _dropped, ...rest } = container.composeEnv
      const without = { ...imageEnvironment(container.instructions), ...rest }
      expect(JSON.stringify(loads(spec, without, container.readMounted)), variable).not.toBe(full)
    }
  })

  test('starts after the infrastructure it needs is healthy and the topics exist', () => {
    const dependsOn = container.service.depends_on ?? {}
    expect(dependsOn['kafka']?.condition).toBe('service_healthy')
    expect(dependsOn['schema-registry']?.condition).toBe('service_healthy')
    expect(dependsOn['topics']?.condition).toBe('service_completed_successfully')
    if ('CLICKHOUSE_URL' in container.env) expect(dependsOn['clickhouse']?.condition).toBe('service_healthy')
  })
})

describe('docker-compose.yml', () => {
  test('publishes every port on 127.0.0.1 only', () => {
    const ports = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => [name, p]),
    )
    expect(ports.length).toBeGreaterThan(pipelineServices.length)
    for (const [name, port] of ports) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/)
  })

  test('publishes no host port twice', () => {
    const hostPorts = Object.values(compose.services).flatMap((s) =>
      (s.ports ?? []).map((p) => p.split(':')[1]),
    )
    expect(new Set(hostPorts).size).toBe(hostPorts.length)
  })

  test("creates the pipeline's topics with their partitions before the services start", () => {
    const specs = (serviceEnvironment(composeService('topics'))['PIPELINE_TOPICS'] ?? '').trim().split(/\s+/)
    const created = specs.map((spec) => spec.split(':').slice(0, 2).join(':'))
    expect(created.sort()).toEqual(
      Object.values(pipelineTopics)
        .map((t) => `${t.name}:${t.partitions}`)
        .sort(),
    )
    // With the settings the pipeline gives them (the input's segment.ms bounds erased bytes on disk).
    for (const topic of Object.values(pipelineTopics)) {
      if (!('config' in topic)) continue
      const spec = specs.find((s) => s.startsWith(`${topic.name}:`))
      expect(spec?.split(':').slice(2)).toEqual(
        Object.entries(topic.config).map(([name, value]) => `${name}=${value}`),
      )
    }
  })

  test('gives the sink and the query API ClickHouse users of their own, each with its own password', () => {
    const asWritten = (name: string) => composeAsWritten.services[name]?.environment ?? {}
    const server = asWritten('clickhouse')
    expect(server['CLICKHOUSE_USER']).toBe('audit_admin')
    const users = [
      ['clickhouse', server['CLICKHOUSE_USER'], server['CLICKHOUSE_PASSWORD'], 'CLICKHOUSE_ADMIN_PASSWORD'],
      ...(
        [
          ['clickhouse-sink', 'audit_sink', 'CLICKHOUSE_SINK_PASSWORD'],
          ['query-api', 'audit_query_api', 'CLICKHOUSE_QUERY_API_PASSWORD'],
        ] as const
      ).map(([name, user, variable]) => {
        const env = asWritten(name)
        expect(env['CLICKHOUSE_USERNAME'], name).toBe(user)
        return [name, env['CLICKHOUSE_USERNAME'], env['CLICKHOUSE_PASSWORD'], variable]
      }),
    ]
    for (const [name, , password, variable] of users) {
      expect(interpolationsIn(password), `${name}'s ClickHouse password`).toEqual([
        { variable, operator: ':?', word: expect.stringContaining('deploy/docker/README.md') as unknown },
      ])
    }
    expect(new Set(users.map(([, user]) => user)).size).toBe(users.length)
    // What the services log in with, once interpolated: never the admin's.
    const admin = serviceEnvironment(composeService('clickhouse'))['CLICKHOUSE_PASSWORD']
    for (const name of ['clickhouse-sink', 'query-api']) {
      expect(serviceEnvironment(composeService(name))['CLICKHOUSE_PASSWORD'], name).not.toBe(admin)
    }
  })

  test('gives no secret a default: each one is required, with a message pointing to the README', () => {
    const secrets = interpolationsIn(composeAsWritten).filter((i) => secretLike.test(i.variable))
    expect(secrets.map((i) => i.variable)).toEqual(
      expect.arrayContaining([
        'CLICKHOUSE_ADMIN_PASSWORD',
        'CLICKHOUSE_SINK_PASSWORD',
        'CLICKHOUSE_QUERY_API_PASSWORD',
        'AUDIT_FORWARD_WEBHOOK_SECRET',
        'AUDIT_ALERT_WEBHOOK_SECRET',
        'AUDIT_QUERY_API_KEYS_DIR',
      ]),
    )
    for (const { variable, operator, word } of secrets) {
      expect(operator, `${variable} must be written \${${variable}:?…}`).toBe(':?')
      expect(word, variable).toMatch(/deploy\/docker\/README\.md/)
    }
  })

  test('writes no secret into the file: a secret setting is only ever a required variable', () => {
    for (const [name, service] of Object.entries(composeAsWritten.services)) {
      const mounted = [...mountedFiles(service, repoRoot).values()].filter((path) => /\.ya?ml$/.test(path))
      const namedInFiles = new Set(
        mounted.flatMap((path) => secretVariables(parseYaml(readFileSync(path, 'utf8')))),
      )
      for (const [setting, value] of Object.entries(service.environment ?? {})) {
        if (setting.endsWith('_FILE') || !(secretLike.test(setting) || namedInFiles.has(setting))) continue
        expect(String(value), `${name}: ${setting}`).toMatch(/^\$\{[A-Z0-9_]+:\?[^}]*\}$/)
      }
      // A file of credentials (the API keys) comes from the operator, not from this repository.
      for (const [setting, path] of Object.entries(service.environment ?? {})) {
        if (!setting.endsWith('_FILE') || !secretLike.test(setting)) continue
        const folder = posix.dirname(String(path))
        const mount = (service.volumes ?? []).find((volume) => volume.endsWith(`:${folder}:ro`))
        expect(
          mount,
          `${name}: ${setting}'s folder is mounted (the CLI renames a new file over it)`,
        ).toBeDefined()
        expect(interpolationsIn(mount!.split(`:${folder}`)[0])[0]?.operator, `${name}: ${setting}`).toBe(':?')
      }
    }
  })
})

describe('deploy/docker/README.md', () => {
  const readme = read('deploy/docker/README.md')

  test('describes every variable compose requires, and its .env recipe sets each one', () => {
    expect(requiredVariables.length).toBeGreaterThan(0)
    const recipe = /```sh\n(umask 077[\s\S]*?)```/.exec(readme)?.[1] ?? ''
    for (const variable of requiredVariables) {
      expect(readme, variable).toContain(`| \`${variable}\` |`)
      expect(recipe, variable).toMatch(new RegExp(`^${variable}=`, 'm'))
    }
  })

  test('hands out no token for the example keys', () => {
    expect(readme).not.toMatch(/Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/)
  })
})
