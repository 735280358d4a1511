// docker-compose.yml and deploy/docker/Dockerfile against the services they run: a renamed
// setting, bin or config file fails here rather than in a container that never starts. Reads
// repository files only (no Docker engine needed).
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { loadAlertingConfig, parseRules } from '@audit-pipeline/alerting'
import { loadSinkConfig } from '@audit-pipeline/clickhouse-sink'
import { pipelineTopics } from '@audit-pipeline/config'
import { loadForwarderConfig, parseDestinations } from '@audit-pipeline/forwarder'
import { loadNormalizerConfig, parseRoutes } from '@audit-pipeline/normalizer'
import { loadQueryApiConfig } from '@audit-pipeline/query-api'
import {
  isReadOnly,
  mountedFiles,
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
    load: (env) => loadSinkConfig(env),
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

const compose = readComposeFile(read('docker-compose.yml'), {})

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
    const repoPath = files.get(path)
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
      expect(container.files.has(file!), `${setting}=${file} is mounted`).toBe(true)
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
  })

  test('uses the credentials the ClickHouse server is given', () => {
    const server = serviceEnvironment(composeService('clickhouse'))
    for (const name of ['clickhouse-sink', 'query-api']) {
      const env = serviceEnvironment(composeService(name))
      expect(env['CLICKHOUSE_USERNAME'], name).toBe(server['CLICKHOUSE_USER'])
      expect(env['CLICKHOUSE_PASSWORD'], name).toBe(server['CLICKHOUSE_PASSWORD'])
    }
  })
})

describe('deploy/docker/README.md', () => {
  test("gives tokens for the example keys file's keys", () => {
    const keys = (
      JSON.parse(read('deploy/query-api/keys.example.json')) as {
        keys: { id: string; secret_sha256: string }[]
      }
    ).keys
    const tokens = [...read('deploy/docker/README.md').matchAll(/Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)/g)]
    expect(tokens.map(([, id]) => id).sort()).toEqual(keys.map((key) => key.id).sort())
    for (const [, id, secret] of tokens) {
      const hash = createHash('sha256').update(secret!).digest('hex')
      expect(keys.find((key) => key.id === id)?.secret_sha256, id).toBe(hash)
    }
  })
})
