import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { readJsonObject, writeJsonFile } from './jsonFile.js'
import { isAlive } from './processIdentity.js'

/**
 * Where a supervised process is: `running`; `restarting`, waiting out its backoff after an exit;
 * `gave up` (the restart limit was reached, see AUDIT_STACK_MAX_RESTARTS); `stopped` by the
 * supervisor's own shutdown, or because the stack it belonged to was stopped elsewhere.
 */
export const processStates = ['running', 'restarting', 'gave up', 'stopped'] as const
export type ProcessState = (typeof processStates)[number]

export type ProcessExit = { code: number | null; signal: string | null; at: string }

/** One process `npm start` supervises, as `audit-stack status` shows it. */
export type SupervisedProcessStatus = {
  name: string
  state: ProcessState
  /** Absent while it waits to be restarted and once it is no longer supervised. */
  pid?: number
  /** How many times it was restarted since `npm start` began. */
  restarts: number
  logFile: string
  lastExit?: ProcessExit
  /** The last line of its log that reads as an error, when it last exited. */
  lastErrorLine?: string
  /** When the next restart is due (state `restarting`). */
  nextRestartAt?: string
}

/** Written by the supervisor of `npm start` at each change; `ownerPid` is that process. */
export type SupervisionState = {
  ownerPid: number
  updatedAt: string
  processes: SupervisedProcessStatus[]
}

export const supervisionStateFile = (stateDir: string): string => join(stateDir, 'supervisor.json')

export function writeSupervisionState(stateDir: string, state: SupervisionState): void {
  writeJsonFile(supervisionStateFile(stateDir), state)
}

export function removeSupervisionState(stateDir: string): void {
  rmSync(supervisionStateFile(stateDir), { force: true })
}

/** What the supervisor running for `stateDir` last wrote; undefined when none runs (its owner is gone). */
export function readSupervisionState(stateDir: string): SupervisionState | undefined {
  const file = supervisionStateFile(stateDir)
  if (!existsSync(file)) return undefined
  const state = readJsonObject(file, 'supervisor state file') as SupervisionState
  if (typeof state.ownerPid !== 'number' || !Array.isArray(state.processes)) {
    throw new Error(`${file} is not a supervisor state file (ownerPid, processes expected); delete it`)
  }
  return isAlive(state.ownerPid) ? state : undefined
}
