import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { readJsonObject, writeJsonFile } from './jsonFile.js'
import { isOurProcess } from './processIdentity.js'

/**
 * How a process was started, so whoever restarts it (the `npm start` supervisor, a test stopping
 * and starting one broker) starts it with the same ports and files. The environment is not kept:
 * the stack's JVMs take everything from their arguments and configuration files.
 */
export type LaunchCommand = { command: string; args: string[]; cwd: string }

/** A process the stack started and must stop. */
export type ManagedProcess = {
  pid: number
  logFile: string
  version: string
  /** Absent in a state file written by an audit-stack from before restarts. */
  launch?: LaunchCommand
}

/** One node of the stack's Kafka cluster: a KRaft broker and controller in one process. */
export type KafkaNode = ManagedProcess & {
  /** Its `node.id`: 1 to the cluster's size. */
  id: number
  /** Its client listener, `127.0.0.1:<port>`. */
  listener: string
}

/** Where each part of the stack is; processes are absent for parts given by the environment. */
export type StackState = {
  stateDir: string
  startedAt: string
  /** When set, the stack stops itself once this process is gone (test runs, `npm start`). */
  ownerPid?: number
  /**
   * `topics`: the pipeline topics the stack created on its own cluster; `nodes`: the cluster the
   * stack runs (absent when KAFKA_BROKERS names one), node ids 1..n.
   */
  kafka: { brokers: string[]; topics: string[]; nodes?: KafkaNode[] }
  schemaRegistry: { url: string; process?: ManagedProcess }
  clickhouse:
    { kind: 'embedded'; dataPath: string; database: string } | { kind: 'http'; url: string; database: string }
}

/** The name a Kafka node goes by in status tables, logs and the supervisor. */
export const kafkaNodeName = (id: number): string => `kafka-${id}`
export const schemaRegistryName = 'schema-registry'

export const stackStateFile = (stateDir: string): string => join(stateDir, 'stack.json')

export function writeStackState(state: StackState): void {
  mkdirSync(state.stateDir, { recursive: true })
  writeJsonFile(stackStateFile(state.stateDir), state)
}

/** The stack recorded in `stateDir`, or undefined when none is; throws naming the file when it is unreadable. */
export function readStackState(stateDir: string): StackState | undefined {
  const file = stackStateFile(stateDir)
  if (!existsSync(file)) return undefined
  const value = readJsonObject(file, 'stack state file')
  const kafka = value['kafka'] as Record<string, unknown> | undefined
  if (
    typeof value['stateDir'] !== 'string' ||
    !Array.isArray(kafka?.['brokers']) ||
    typeof (value['schemaRegistry'] as Record<string, unknown> | undefined)?.['url'] !== 'string' ||
    typeof value['clickhouse'] !== 'object'
  ) {
    throw new Error(
      `${file} is not a stack state file (stateDir, kafka, schemaRegistry, clickhouse expected); delete it`,
    )
  }
  // Written before clusters: one node, `kafka.process`.
  const legacy = kafka['process'] as ManagedProcess | undefined
  if (legacy && !kafka['nodes']) {
    const listener = (kafka['brokers'] as string[])[0] ?? ''
    kafka['nodes'] = [{ ...legacy, id: 1, listener }]
    delete kafka['process']
  }
  return value as StackState
}

/**
 * Applies `change` to the stack recorded in `stateDir` and writes it back; does nothing and returns
 * undefined when no stack is recorded there (it was stopped meanwhile).
 */
export function updateStackState(
  stateDir: string,
  change: (state: StackState) => StackState,
): StackState | undefined {
  const state = readStackState(stateDir)
  if (!state) return undefined
  const changed = change(state)
  writeStackState(changed)
  return changed
}

export function removeStackState(stateDir: string): void {
  rmSync(stackStateFile(stateDir), { force: true })
}

/** Every process the stack started, by name: the schema registry, then the Kafka nodes. */
export function stackProcesses(state: StackState): { name: string; process: ManagedProcess }[] {
  return [
    ...(state.schemaRegistry.process
      ? [{ name: schemaRegistryName, process: state.schemaRegistry.process }]
      : []),
    ...(state.kafka.nodes ?? []).map((node) => ({ name: kafkaNodeName(node.id), process: node })),
  ]
}

/** Every process the state names is still ours and running. */
export function isStackRunning(state: StackState): boolean {
  return stackProcesses(state).every(({ process }) => isOurProcess(process.pid, state.stateDir))
}
