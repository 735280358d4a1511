import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { pipelineTopics } from '@audit-pipeline/config'
import { freePort } from './freePort.js'
import type { LocalClickHouseUsers } from './localClickHouseAccess.js'
import type { LocalFieldKeys } from './localFieldKeys.js'
import type { LocalReceiverFiles } from './localReceivers.js'
import { deployDir, repoRoot } from './paths.js'
import type { StackState } from '@audit-pipeline/stack-state'
import { launch, stopProcess, type LaunchedProcess } from './processes.js'
import type { SupervisedSpec } from './supervisor.js'
import { waitUntilReady } from './waitUntilReady.js'
import { watchProcesses } from './watchdog.js'

/** Files and endpoints `npm start` makes for the services before starting them. */
export type LocalSetup = {
  receivers: LocalReceiverFiles
  /** The query API's keys file (made at start-up, see localQueryApi.ts) and its port. */
  queryApi: { keysFile: string; port: number }
  /** Passed to every service: the local inbox's signing secret. */
  env: Record<string, string>
  /** With a ClickHouse server: the sink's and the query API's own users (localClickHouseAccess.ts). */
  clickhouseUsers?: LocalClickHouseUsers
  /** The sink's checkpoint signing key (localSigningKey.ts). */
  signingKeyFile: string
  /** The key store the normalizer seals with and the query API opens with (localFieldKeys.ts). */
  fieldKeys: LocalFieldKeys
}

/** A pipeline service `npm start` runs: its compiled entry point and its default settings. */
export type ServiceSpec = {
  name: string
  /** Relative to the repository root. */
  bin: string
  /** What it does, for the status table. */
  role: string
  /** Settings from deploy/ (or made at start-up); any of them set in the environment wins. */
  defaults: (local: LocalSetup) => Record<string, string>
  /** Node flags the service is meant to run with (its README says why). */
  nodeOptions?: string[]
  /** Runs only with this kind of ClickHouse; by default with both. */
  clickhouse?: 'embedded' | 'http'
  /** With a server, the ClickHouse user it logs in as; it wins over the environment's. */
  clickhouseUser?: keyof LocalClickHouseUsers
}

const sinkSettings = (local: LocalSetup) => ({
  SINK_SIGNING_KEY_FILE: local.signingKeyFile,
  SINK_INPUT_TOPICS: [
    pipelineTopics.normalized.name,
    pipelineTopics.alerts.name,
    pipelineTopics.access.name,
  ].join(','),
})
const fieldKeysSettings = (local: LocalSetup) => ({
  FIELD_KEYS_DIR: local.fieldKeys.directory,
  FIELD_KEYS_KEK_FILE: local.fieldKeys.kekFile,
})
const queryApiSettings = (local: LocalSetup) => ({
  QUERY_API_KEYS_FILE: local.queryApi.keysFile,
  QUERY_API_PORT: String(local.queryApi.port),
  // Auditors' answers open sealed values.
  ...fieldKeysSettings(local),
})
const sinkRole =
  'audit.normalized, audit.alerts, audit.access → ClickHouse (audit_events, audit_changes, audit_actions_hourly)'
const queryApiRole = 'query API over ClickHouse (timeline, search, counts, alerts, export, SQL)'

export const pipelineServices: readonly ServiceSpec[] = [
  {
    name: 'normalizer',
    bin: 'services/normalizer/bin/audit-normalizer.js',
    role: 'audit.events → audit.normalized, audit.forward, audit.dlq',
    defaults: (local) => ({
      NORMALIZER_ROUTES_FILE: join(deployDir, 'normalizer/routes.yaml'),
      NORMALIZER_REDACTION_FILE: join(deployDir, 'normalizer/redaction.yaml'),
      // deploy/normalizer/redaction.yaml seals every tenant's sensitive values with it.
      ...fieldKeysSettings(local),
    }),
  },
  {
    name: 'alerting',
    bin: 'services/alerting/bin/audit-alerting.js',
    role: 'audit.normalized → rules → audit.alerts, signed webhooks',
    defaults: (local) => ({
      ALERTING_RULES_FILE: join(deployDir, 'alerting/rules.yaml'),
      ALERTING_RECEIVERS_FILE: local.receivers.alertReceivers,
      // The stack's topics are new at each start: nothing old to skip, and with `latest` a
      // partition first read after its first events arrived would skip them.
      ALERTING_START_FROM: 'earliest',
    }),
  },
  // Embedded ClickHouse opens in one process only: the sink and the query API share it.
  {
    name: 'clickhouse-sink+query-api',
    bin: 'deploy/sink-with-query-api/bin/audit-sink-with-query-api.js',
    role: 'audit.normalized, audit.alerts, audit.access → ClickHouse; the query API (below) over the same data folder',
    defaults: (local) => ({ ...sinkSettings(local), ...queryApiSettings(local) }),
    clickhouse: 'embedded',
  },
  {
    name: 'clickhouse-sink',
    bin: 'services/clickhouse-sink/bin/audit-clickhouse-sink.js',
    role: sinkRole,
    defaults: sinkSettings,
    clickhouse: 'http',
    clickhouseUser: 'sink',
  },
  {
    name: 'query-api',
    bin: 'services/query-api/bin/audit-query-api.js',
    role: queryApiRole,
    defaults: queryApiSettings,
    clickhouse: 'http',
    clickhouseUser: 'queryApi',
  },
  {
    name: 'forwarder',
    bin: 'services/forwarder/bin/audit-forwarder.js',
    role: 'audit.forward → webhooks, Splunk HEC, syslog',
    defaults: (local) => ({ FORWARDER_DESTINATIONS_FILE: local.receivers.forwarderDestinations }),
    nodeOptions: ['--max-semi-space-size=64'],
  },
]

/**
 * The services to run with this kind of ClickHouse: embedded, the sink and the query API share a
 * process (one process per data folder); with a server, each runs as its own process.
 */
export function servicesFor(clickhouse: 'embedded' | 'http'): ServiceSpec[] {
  return pipelineServices.filter((spec) => (spec.clickhouse ?? clickhouse) === clickhouse)
}

/** A running service; `pid` changes when the supervisor starts it again. */
export type RunningService = { name: string; role: string; pid: number; logFile: string; opsUrl: string }

/**
 * Starts each service as its own process (own process group, so Ctrl-C reaches `run` first and
 * services stop before the broker they flush to), logs in the state folder, ops server on a free
 * port, and waits for its /readyz. A watchdog stops them if `ownerPid` dies without stopping them.
 */
export async function startServices(
  state: StackState,
  options: {
    ownerPid: number
    env: NodeJS.ProcessEnv
    local: LocalSetup
    log: (line: string) => void
    /** Handed each service as soon as it is started, with how to start it again (same port, files, settings). */
    supervise?: (spec: SupervisedSpec, launched: LaunchedProcess) => void
  },
): Promise<RunningService[]> {
  const logDir = join(state.stateDir, 'logs')
  mkdirSync(logDir, { recursive: true })
  const running: RunningService[] = []
  try {
    for (const spec of servicesFor(state.clickhouse.kind)) {
      const bin = join(repoRoot, spec.bin)
      if (!existsSync(join(dirname(bin), '..', 'dist'))) {
        throw new Error(`${spec.name} is not built: run \`npm run build\` (npm start builds first)`)
      }
      const port = await freePort()
      const logFile = join(logDir, `${spec.name}.log`)
      const env = {
        ...spec.defaults(options.local),
        ...options.local.env,
        ...options.env,
        KAFKA_BROKERS: state.kafka.brokers.join(','),
        SCHEMA_REGISTRY_URL: state.schemaRegistry.url,
        ...(state.clickhouse.kind === 'http'
          ? { CLICKHOUSE_URL: state.clickhouse.url }
          : { CLICKHOUSE_EMBEDDED_PATH: state.clickhouse.dataPath }),
        CLICKHOUSE_DATABASE: state.clickhouse.database,
        ...(spec.clickhouseUser && options.local.clickhouseUsers?.[spec.clickhouseUser]),
        OPS_HOST: '127.0.0.1',
        OPS_PORT: String(port),
      }
      const start = () => {
        const launched = launch(process.execPath, [...(spec.nodeOptions ?? []), bin], {
          cwd: repoRoot,
          logFile,
          env,
        })
        watchProcesses(options.ownerPid, state.stateDir, [launched.pid])
        return launched
      }
      const launched = start()
      const { pid } = launched
      const opsUrl = `http://127.0.0.1:${port}`
      const service: RunningService = { name: spec.name, role: spec.role, pid, logFile, opsUrl }
      running.push(service)
      options.supervise?.(
        {
          name: spec.name,
          logFile,
          restart: () => {
            const again = start()
            service.pid = again.pid
            return again
          },
        },
        launched,
      )
      await waitUntilReady({
        what: spec.name,
        pid,
        logFile,
        timeoutMs: 60_000,
        probe: async () => (await fetch(`${opsUrl}/readyz`).catch(() => undefined))?.status === 200,
      })
      options.log(`${spec.name} ready (pid ${pid})`)
    }
    return running
  } catch (error) {
    await stopServices(running)
    throw error
  }
}

/** SIGTERM each service, last started first, and wait for it to finish its batch and exit. */
export async function stopServices(running: readonly RunningService[]): Promise<void> {
  for (const service of [...running].reverse()) await stopProcess(service.pid, 30_000)
}

/** Rows for the status table. */
export function describeServices(running: readonly RunningService[], cwd = process.cwd()): string {
  const shown = (path: string) => (relative(cwd, path).startsWith('..') ? path : relative(cwd, path))
  const rows = running.map((s) => [s.name, s.opsUrl, `${s.role}; pid ${s.pid}, log ${shown(s.logFile)}`])
  const width = (i: number) => Math.max(...rows.map((row) => row[i]!.length))
  return rows
    .map(([name, url, what]) => `  ${name!.padEnd(width(0))}  ${url!.padEnd(width(1))}  ${what}`)
    .join('\n')
}
