import {
  isAlive,
  isOurProcess,
  kafkaNodeName,
  readStackState,
  stackProcesses,
  updateStackState,
  type KafkaNode,
  type StackState,
} from '@audit-pipeline/stack-state'
import { waitForKafkaNode } from './kafkaBroker.js'
import { launch, type LaunchedProcess } from './processes.js'
import { watchProcesses } from './watchdog.js'

function stackIn(stateDir: string): StackState {
  const state = readStackState(stateDir)
  if (!state)
    throw new Error(`no local stack is recorded in ${stateDir} (it was stopped, or never started there)`)
  return state
}

/**
 * Starts one of the stack's processes (`kafka-2`, `schema-registry`) again, with the command,
 * ports and files it had, records its new PID in the state file and, when the stack has an owner,
 * gives it a watchdog. Refuses when it still runs. It does not wait for it to be ready.
 */
export function relaunchStackProcess(stateDir: string, name: string): LaunchedProcess {
  const state = stackIn(stateDir)
  const processes = stackProcesses(state)
  const found = processes.find((p) => p.name === name)
  if (!found) {
    throw new Error(
      `the stack in ${stateDir} has no process named ${name}; it has: ${processes.map((p) => p.name).join(', ') || 'none (its parts are given by the environment)'}`,
    )
  }
  const { process: previous } = found
  if (!previous.launch) {
    throw new Error(
      `${name} was started by an older audit-stack that did not record how; restart the whole stack`,
    )
  }
  if (isOurProcess(previous.pid, stateDir)) throw new Error(`${name} is still running (pid ${previous.pid})`)
  const launched = launch(previous.launch.command, previous.launch.args, {
    cwd: previous.launch.cwd,
    logFile: previous.logFile,
  })
  updateStackState(stateDir, (current) => withPid(current, name, launched.pid))
  if (state.ownerPid !== undefined) watchProcesses(state.ownerPid, stateDir, [launched.pid])
  return launched
}

function withPid(state: StackState, name: string, pid: number): StackState {
  const registry = state.schemaRegistry.process
  return {
    ...state,
    schemaRegistry:
      registry && name === 'schema-registry'
        ? { ...state.schemaRegistry, process: { ...registry, pid } }
        : state.schemaRegistry,
    kafka: {
      ...state.kafka,
      ...(state.kafka.nodes && {
        nodes: state.kafka.nodes.map((node) => (kafkaNodeName(node.id) === name ? { ...node, pid } : node)),
      }),
    },
  }
}

/** Signals a test may send a broker: a crash, a clean stop, a freeze and a thaw. */
export type BrokerSignal = 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'

/**
 * What a test uses to break the local Kafka cluster on purpose: every call reads the stack's state
 * file, so it works from any process (a vitest worker, while the run's global setup started the
 * stack) and sees PIDs a restart changed.
 */
export type KafkaClusterControl = {
  /** Node ids, 1..n (n is 1 or 3). */
  brokerIds(): number[]
  /** The client listener of a node, `127.0.0.1:<port>`. */
  brokerAddress(id: number): string
  /** The PID each node was last started as, by id, whether or not it still runs. */
  brokerPids(): Map<number, number>
  isBrokerRunning(id: number): boolean
  /**
   * Sends `signal` (default SIGKILL) to a node's process, by PID. For SIGKILL and SIGTERM, resolves
   * once the process is gone (SIGTERM: a controlled shutdown, up to `timeoutMs`); for SIGSTOP and
   * SIGCONT, at once.
   */
  killBroker(id: number, signal?: BrokerSignal, options?: { timeoutMs?: number }): Promise<void>
  /**
   * Starts a node that is not running again, with its ports and data, and resolves with its new PID
   * once it serves metadata that lists it (not once it has caught up: wait for the ISR for that).
   */
  startBroker(id: number, options?: { timeoutMs?: number }): Promise<number>
}

/** The handle on the Kafka cluster of the stack recorded in `stateDir` (see KafkaClusterControl). */
export function kafkaClusterControl(stateDir: string): KafkaClusterControl {
  const nodes = (): KafkaNode[] => {
    const state = stackIn(stateDir)
    if (!state.kafka.nodes) {
      throw new Error(
        `the stack in ${stateDir} runs no Kafka of its own (KAFKA_BROKERS named one): there is no broker to control`,
      )
    }
    return state.kafka.nodes
  }
  const node = (id: number): KafkaNode => {
    const all = nodes()
    const found = all.find((n) => n.id === id)
    if (!found)
      throw new Error(
        `no Kafka node ${id} in the stack in ${stateDir}; its nodes are ${all.map((n) => n.id).join(', ')}`,
      )
    return found
  }
  const running = (id: number) => isOurProcess(node(id).pid, stateDir)

  return {
    brokerIds: () => nodes().map((n) => n.id),
    brokerAddress: (id) => node(id).listener,
    brokerPids: () => new Map(nodes().map((n) => [n.id, n.pid])),
    isBrokerRunning: running,
    async killBroker(id, signal = 'SIGKILL', options = {}) {
      const { pid } = node(id)
      if (!running(id)) throw new Error(`Kafka node ${id} is not running (pid ${pid} is gone)`)
      process.kill(pid, signal)
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM') return
      const timeoutMs = options.timeoutMs ?? (signal === 'SIGKILL' ? 5_000 : 60_000)
      const deadline = Date.now() + timeoutMs
      while (isAlive(pid)) {
        if (Date.now() > deadline)
          throw new Error(`Kafka node ${id} (pid ${pid}) was still running ${timeoutMs} ms after ${signal}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    async startBroker(id, options = {}) {
      const launched = relaunchStackProcess(stateDir, kafkaNodeName(id))
      await waitForKafkaNode({ ...launched, id, listener: node(id).listener }, options.timeoutMs ?? 90_000)
      return launched.pid
    },
  }
}
