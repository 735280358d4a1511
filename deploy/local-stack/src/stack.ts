import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { loadConnectionSettings } from '@audit-pipeline/config'
import {
  defaultStateDir,
  isOurProcess,
  isStackRunning,
  kafkaNodeName,
  readStackState,
  removeStackState,
  schemaRegistryName,
  stackProcesses,
  writeStackState,
  type KafkaNode,
  type ManagedProcess,
  type StackState,
} from '@audit-pipeline/stack-state'
import { defaultKafkaVersion, startKafkaCluster, stopKafkaNodes, type RunningKafka } from './kafkaBroker.js'
import { createPipelineTopics } from './pipelineTopics.js'
import { defaultCacheDir } from './paths.js'
import { checkMaven, findJava, javaCandidates } from './prerequisites.js'
import { stopProcess, type LaunchedProcess } from './processes.js'
import {
  apicurioMinJavaMajor,
  defaultApicurioVersion,
  startSchemaRegistry,
  type RunningSchemaRegistry,
} from './schemaRegistry.js'
import { acquireStackLock } from './stackLock.js'
import { requestedClusterSize, type KafkaClusterSize } from './stackSettings.js'
import { watchProcesses } from './watchdog.js'

export type StartStackOptions = {
  env: NodeJS.ProcessEnv
  stateDir?: string
  cacheDir?: string
  /** Stop the stack when this process exits, however it exits. */
  ownerPid?: number
  log?: (line: string) => void
  /** Kafka nodes (`--brokers`); by default AUDIT_STACK_BROKERS, else 1 (stackSettings.ts). */
  brokers?: KafkaClusterSize
}

/** A process this call started, for `npm start` to supervise. */
export type StartedStackProcess = { name: string; launched: LaunchedProcess }

export type StackHandle = {
  state: StackState
  /** True when a stack already running in the state folder was reused. */
  reused: boolean
  /** Seconds from call to ready. */
  startSeconds: number
  /** What this call started (none when it reused a stack): Kafka's nodes, the schema registry. */
  processes: StartedStackProcess[]
  /** Stops what this call started; a reused stack is left running for whoever started it. */
  stop(): Promise<void>
}

/**
 * Brings up whatever part of the stack the environment does not provide: Kafka unless
 * KAFKA_BROKERS is set (one node, or three with AUDIT_STACK_BROKERS=3 / `brokers: 3`), the schema
 * registry unless SCHEMA_REGISTRY_URL is set, and an embedded ClickHouse data folder unless
 * CLICKHOUSE_URL is set. Reuses a stack already running in the state folder, unless it has another
 * number of Kafka nodes than was asked for.
 */
export async function startStack(options: StartStackOptions): Promise<StackHandle> {
  const started = Date.now()
  const log = options.log ?? (() => undefined)
  const settings = loadConnectionSettings(options.env)
  const requestedSize = options.brokers ?? requestedClusterSize(options.env)
  const stateDir = options.stateDir ?? defaultStateDir(options.env)
  const cacheDir = options.cacheDir ?? defaultCacheDir(options.env)
  const needKafka = !settings.kafka.brokers
  const needRegistry = !settings.schemaRegistry
  const release = acquireStackLock(stateDir)
  try {
    const existing = readStackState(stateDir)
    if (existing && isStackRunning(existing)) {
      const runningSize = existing.kafka.nodes?.length
      if (
        needKafka &&
        requestedSize !== undefined &&
        runningSize !== undefined &&
        runningSize !== requestedSize
      ) {
        throw new Error(
          `a local stack with ${runningSize} Kafka node${runningSize === 1 ? '' : 's'} is already running in ${stateDir} (since ${existing.startedAt}), and ${requestedSize} were asked for; stop it first (npm run stack:down), or ask for ${runningSize}`,
        )
      }
      return {
        state: existing,
        reused: true,
        startSeconds: (Date.now() - started) / 1000,
        processes: [],
        stop: async () => {},
      }
    }
    if (existing) await stopLeftovers(existing)

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
      const registryDir = join(stateDir, 'schema-registry')
      // Fresh broker and registry storage each start (see startKafkaCluster, startSchemaRegistry).
      if (needKafka) {
        rmSync(kafkaDir, { recursive: true, force: true })
        mkdirSync(kafkaDir, { recursive: true })
      }
      if (needRegistry) rmSync(join(registryDir, 'data'), { recursive: true, force: true })
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
          ? startKafkaCluster({
              ...common,
              java: kafkaJava,
              version: kafkaVersion,
              dir: kafkaDir,
              size: requestedSize ?? 1,
            })
          : undefined,
        needRegistry
          ? startSchemaRegistry({ ...common, java: registryJava, version: apicurioVersion, dir: registryDir })
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
        await Promise.all([
          stopKafkaNodes(kafka?.nodes.map((node) => node.pid) ?? []),
          registry ? stopProcess(registry.pid) : undefined,
        ])
        throw error
      }
    }

    const state: StackState = {
      stateDir,
      startedAt: new Date().toISOString(),
      ...(options.ownerPid !== undefined && { ownerPid: options.ownerPid }),
      kafka: kafka
        ? {
            brokers: kafka.brokers,
            topics,
            nodes: kafka.nodes.map((node) => kafkaNode(node, kafka.version)),
          }
        : { brokers: settings.kafka.brokers ?? [], topics },
      schemaRegistry: registry
        ? { url: registry.url, process: managed(registry, registry.version) }
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
    if (options.ownerPid !== undefined) {
      watchProcesses(
        options.ownerPid,
        stateDir,
        stackProcesses(state).map(({ process }) => process.pid),
      )
    }
    return {
      state,
      reused: false,
      startSeconds: (Date.now() - started) / 1000,
      processes: [
        ...(kafka?.nodes ?? []).map((node) => ({ name: kafkaNodeName(node.id), launched: node })),
        ...(registry ? [{ name: schemaRegistryName, launched: registry }] : []),
      ],
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
    const ours = (process: ManagedProcess) => isOurProcess(process.pid, state.stateDir)
    // Registry first: nothing depends on it at shutdown, and Kafka takes longest.
    const registry = state.schemaRegistry.process
    if (registry) {
      const outcome = ours(registry) ? await stopProcess(registry.pid) : 'not running'
      results.push({ name: schemaRegistryName, pid: registry.pid, outcome })
    }
    const nodes = state.kafka.nodes ?? []
    const running = nodes.filter(ours)
    const outcomes = await stopKafkaNodes(running.map((node) => node.pid))
    for (const node of nodes) {
      const outcome = outcomes[running.indexOf(node)] ?? 'not running'
      results.push({ name: kafkaNodeName(node.id), pid: node.pid, outcome })
    }
    removeStackState(stateDir)
    return results
  } finally {
    release()
  }
}

/** A state file whose processes are partly gone: stop the rest before starting anew. */
async function stopLeftovers(state: StackState): Promise<void> {
  await Promise.all(
    stackProcesses(state)
      .filter(({ process }) => isOurProcess(process.pid, state.stateDir))
      .map(({ process }) => stopProcess(process.pid)),
  )
  removeStackState(state.stateDir)
}

function managed(p: LaunchedProcess, version: string): ManagedProcess {
  return { pid: p.pid, logFile: p.logFile, version, launch: p.launch }
}

function kafkaNode(node: RunningKafka['nodes'][number], version: string): KafkaNode {
  return { id: node.id, listener: node.listener, ...managed(node, version) }
}
