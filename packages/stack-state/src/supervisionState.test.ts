import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readSupervisionState, writeSupervisionState, type SupervisionState } from './supervisionState.js'

const state = (ownerPid: number): SupervisionState => ({
  ownerPid,
  updatedAt: '2025-01-01T00:00:00.000Z',
  processes: [
    {
      name: 'alerting',
      state: 'restarting',
      restarts: 2,
      logFile: 'alerting.log',
      lastExit: { code: 1, signal: null, at: '2025-01-01T00:00:00.000Z' },
      lastErrorLine: 'fatal: retries exhausted',
      nextRestartAt: '2025-01-01T00:00:04.000Z',
    },
  ],
})

describe('the supervisor state file', () => {
  it('is read back while its owner runs', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'supervision-'))
    writeSupervisionState(stateDir, state(process.pid))
    expect(readSupervisionState(stateDir)).toEqual(state(process.pid))
  })

  it('is ignored once its owner is gone (npm start was killed)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'supervision-'))
    const owner = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    await new Promise((resolve) => owner.once('exit', resolve))
    writeSupervisionState(stateDir, state(owner.pid!))
    expect(readSupervisionState(stateDir)).toBeUndefined()
  })

  it('is absent when nothing supervises the folder', () => {
    expect(readSupervisionState(mkdtempSync(join(tmpdir(), 'supervision-')))).toBeUndefined()
  })
})
