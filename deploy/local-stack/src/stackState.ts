import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isOurProcess } from './processes.js'

/** A process the stack started and must stop. */
export type ManagedProcess = { pid: number; logFile: string; version: string }

/** Where each part of the stack is; `process` is absent for parts given by the environment. */
export type StackState = {
  stateDir: string
  startedAt: string
  /** When set, the stack stops itself once this process is gone (test runs, `npm start`). */
  ownerPid?: number
  /** `topics`: the pipeline topics the stack created on its own broker. */
  kafka: { brokers: string[]; topics: string[]; process?: ManagedProcess }
  schemaRegistry: { url: string; process?: ManagedProcess }
  clickhouse:
    { kind: 'embedded'; dataPath: string; database: string } | { kind: 'http'; url: string; database: string }
}

const stateFile = (stateDir: string) => join(stateDir, 'stack.json')

export function writeStackState(state: StackState): void {
  mkdirSync(state.stateDir, { recursive: true })
  const file = stateFile(state.stateDir)
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2))
  renameSync(`${file}.tmp`, file)
}

export function readStackState(stateDir: string): StackState | undefined {
  const file = stateFile(stateDir)
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as StackState
}

export function removeStackState(stateDir: string): void {
  rmSync(stateFile(stateDir), { force: true })
}

export function managedProcesses(state: StackState): ManagedProcess[] {
  return [state.schemaRegistry.process, state.kafka.process].filter(
    (p): p is ManagedProcess => p !== undefined,
  )
}

/** Every process the state names is still ours and running. */
export function isStackRunning(state: StackState): boolean {
  return managedProcesses(state).every((p) => isOurProcess(p.pid, state.stateDir))
}
