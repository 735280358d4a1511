import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { loadConnectionSettings } from '@audit-pipeline/config'
import { defaultKafkaVersion, startKafka, type RunningKafka } from './kafkaBroker.js'
import { createPipelineTopics } from './pipelineTopics.js'
import { repoRoot, defaultCacheDir, defaultStateDir } from './paths.js'
import { checkMaven, findJava, javaCandidates } from './prerequisites.js'
import { isOurProcess, stopProcess } from './processes.js'
import {
  apicurioMinJavaMajor,
  defaultApicurioVersion,
  startSchemaRegistry,
  type RunningSchemaRegistry,
} from './schemaRegistry.js'
import { acquireStackLock } from './stackLock.js'
import {
  isStackRunning,
  managedProcesses,
  readStackState,
  removeStackState,
  writeStackState,
  type ManagedProcess,
  type StackState,
} from './stackState.js'

export type StartStackOptions = {
  env: NodeJS.ProcessEnv
  stateDir?: string
  cacheDir?: string
  /** Stop the stack when this process exits, however it exits. */
  ownerPid?: number
  log?: (line: string) => void
}

export type StackHandle = {
  state: StackState
  /** True when a stack already running in the state folder was reused. */
  reused: boolean
  /** Seconds from call to ready. */
  startSeconds: number
  /** Stops what this call started; a reused stack is left running for whoever started it. */
  stop(): Promise<void>
}

/**
 * Brings up whatever part of the stack the environment does not provide: Kafka unless
 * KAFKA_BROKERS is set, the schema registry unless SCHEMA_REGISTRY_URL is set, and an embedded
 * ClickHouse data folder unless CLICKHOUSE_URL is set. Reuses a stack already running in the
 * state folder.
 */
export async function startStack(options: StartStackOptions): Promise<StackHandle> {
  const started = Date.now()
  const log = options.log ?? (() => undefined)
  const settings = loadConnectionSettings(options.env)
  const stateDir = options.stateDir ?? defaultStateDir(options.env)
  const cacheDir = options.cacheDir ?? defaultCacheDir(options.env)
  const release = acquireStackLock(stateDir)
  try {
    const existing = readStackState(stateDir)
    if (existing && isStackRunning(existing)) {
      return {
        state: existing,
        reused: true,
        startSeconds: (Date.now() - started) / 1000,
        stop: async () => {},
      }
    }
    if (existing) await stopLeftovers(existing)

    const needKafka = !settings.kafka.brokers
    const needRegistry = !settings.schemaRegistry
    let kafka: RunningKafka | undefined
    let registry: RunningSchemaRegistry | undefined
    let topics: string[] = []
    if (needKafka || needRegistry) {
      const candidates = javaCandidates(options.env)
      const kafkaJava = needKafka ? (await findJava(17, 'the local Kafka broker', candidates)).java : ''
      const registryJava = needRegistry
        ? (
            await findJava(
              apicurioMinJavaMajor,
              'the local schema registry (Apicurio Registry 3)',
              candidates,
            )
          ).java
        : ''
      const kafkaVersion = options.env['AUDIT_KAFKA_VERSION'] ?? defaultKafkaVersion
      const apicurioVersion = options.env['AUDIT_APICURIO_VERSION'] ?? defaultApicurioVersion
      const cached =
        (!needKafka || existsSync(join(cacheDir, `kafka-${kafkaVersion}/.complete`))) &&
        (!needRegistry || existsSync(join(cacheDir, `apicurio-registry-${apicurioVersion}/.complete`)))
      if (!cached) {
        await checkMaven()
        log(`fetching from Maven Central into ${cacheDir} (first run only)…`)
      }
      const kafkaDir = join(stateDir, 'kafka')
      // Fresh broker storage each start (see startKafka).
      rmSync(kafkaDir, { recursive: true, force: true })
      mkdirSync(kafkaDir, { recursive: true })
      // The stack's own ClickHouse folder goes with it: the sink resumes each partition after the
      // highest offset it stored, and a fresh topic's offsets start at 0 again.
      if (
        needKafka &&
        settings.clickhouse.kind === 'embedded' &&
        settings.clickhouse.dataPath === undefined
      ) {
        rmSync(join(stateDir, 'clickhouse'), { recursive: true, force: true })
      }
      const common = { cacheDir, marker: stateDir }
      const [kafkaResult, registryResult] = await Promise.allSettled([
        needKafka
          ? startKafka({ ...common, java: kafkaJava, version: kafkaVersion, dir: kafkaDir })
          : undefined,
        needRegistry
          ? startSchemaRegistry({
              ...common,
              java: registryJava,
              version: apicurioVersion,
              dir: join(stateDir, 'schema-registry'),
            })
          : undefined,
      ])
      kafka = kafkaResult.status === 'fulfilled' ? kafkaResult.value : undefined
      registry = registryResult.status === 'fulfilled' ? registryResult.value : undefined
      const failures = [kafkaResult, registryResult].filter((r) => r.status === 'rejected')
      try {
        if (failures.length > 0) throw (failures[0] as PromiseRejectedResult).reason
        if (kafka) topics = await createPipelineTopics(kafka.brokers)
      } catch (error) {
        // Leave nothing half-started behind.
        await Promise.all([kafka, registry].flatMap((p) => (p ? [stopProcess(p.pid)] : [])))
        throw error
      }
    }

    const state: StackState = {
      stateDir,
      startedAt: new Date().toISOString(),
      ...(options.ownerPid !== undefined && { ownerPid: options.ownerPid }),
      kafka: kafka
        ? { brokers: kafka.brokers, topics, process: managed(kafka) }
        : { brokers: settings.kafka.brokers ?? [], topics },
      schemaRegistry: registry
        ? { url: registry.url, process: managed(registry) }
        : { url: settings.schemaRegistry?.url ?? '' },
      clickhouse:
        settings.clickhouse.kind === 'http'
          ? { kind: 'http', url: settings.clickhouse.url, database: settings.clickhouse.database }
          : {
              kind: 'embedded',
              dataPath: settings.clickhouse.dataPath ?? join(stateDir, 'clickhouse'),
              database: settings.clickhouse.database,
            },
    }
    writeStackState(state)
    if (options.ownerPid !== undefined) startWatchdog(options.ownerPid, state)
    return {
      state,
      reused: false,
      startSeconds: (Date.now() - started) / 1000,
      stop: () => stopStack(stateDir).then(() => undefined),
    }
  } finally {
    release()
  }
}

export type StopResult = { name: string; pid: number; outcome: 'stopped' | 'killed' | 'not running' }[]

/** Stops, by PID, the processes the stack in `stateDir` started, and nothing else. */
export async function stopStack(stateDir: string): Promise<StopResult | undefined> {
  const release = acquireStackLock(stateDir)
  try {
    const state = readStackState(stateDir)
    if (!state) return undefined
    const results: StopResult = []
    // Registry first: nothing depends on it at shutdown, and Kafka takes longest.
    for (const [name, proc] of [
      ['schema registry', state.schemaRegistry.process],
      ['kafka', state.kafka.process],
    ] as const) {
      if (!proc) continue
      const outcome = isOurProcess(proc.pid, state.stateDir) ? await stopProcess(proc.pid) : 'not running'
      results.push({ name, pid: proc.pid, outcome })
    }
    removeStackState(stateDir)
    return results
  } finally {
    release()
  }
}

/** A state file whose processes are partly gone: stop the rest before starting anew. */
async function stopLeftovers(state: StackState): Promise<void> {
  for (const proc of managedProcesses(state)) {
    if (isOurProcess(proc.pid, state.stateDir)) await stopProcess(proc.pid)
  }
  removeStackState(state.stateDir)
}

function managed(p: { pid: number; logFile: string; version: string }): ManagedProcess {
  return { pid: p.pid, logFile: p.logFile, version: p.version }
}

function startWatchdog(ownerPid: number, state: StackState): void {
  watchProcesses(
    ownerPid,
    state.stateDir,
    managedProcesses(state).map((p) => p.pid),
  )
}

/** Stops `pids` (SIGTERM, then SIGKILL) once `ownerPid` is gone, however it died. */
export function watchProcesses(ownerPid: number, stateDir: string, pids: readonly number[]): void {
  if (pids.length === 0) return
  const watchdog = spawn(
    join(repoRoot, 'deploy/local-stack/bin/watchdog.sh'),
    [String(ownerPid), stateDir, ...pids.map(String)],
    { detached: true, stdio: 'ignore' },
  )
  watchdog.unref()
}
