import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  isStackRunning,
  readStackState,
  stackProcesses,
  stackStateFile,
  updateStackState,
  writeStackState,
  type StackState,
} from './stackState.js'

const newStateDir = () => mkdtempSync(join(tmpdir(), 'stack-state-'))

function stateIn(stateDir: string, pids: { registry: number; kafka: number[] }): StackState {
  return {
    stateDir,
    startedAt: '2025-01-01T00:00:00.000Z',
    kafka: {
      brokers: pids.kafka.map((_, i) => `127.0.0.1:${9092 + i}`),
      topics: [],
      nodes: pids.kafka.map((pid, i) => ({
        id: i + 1,
        pid,
        listener: `127.0.0.1:${9092 + i}`,
        logFile: `broker-${i + 1}.out`,
        version: '4.4.0',
      })),
    },
    schemaRegistry: {
      url: 'http://127.0.0.1:1/apis/ccompat/v7',
      process: { pid: pids.registry, logFile: 'registry.out', version: '3.3.3' },
    },
    clickhouse: { kind: 'embedded', dataPath: join(stateDir, 'clickhouse'), database: 'audit' },
  }
}

/** A process whose command line names `marker`, as the stack's JVMs carry -Daudit.stack=<dir>. */
function processMarked(marker: string): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)', marker], { stdio: 'ignore' })
  onTestFinished(() => void child.kill('SIGKILL'))
  return child.pid!
}

describe('the stack state file', () => {
  it('reads back what was written, and names every process', () => {
    const stateDir = newStateDir()
    const state = stateIn(stateDir, { registry: 10, kafka: [11, 12, 13] })
    writeStackState(state)
    expect(readStackState(stateDir)).toEqual(state)
    expect(stackProcesses(state).map((p) => [p.name, p.process.pid])).toEqual([
      ['schema-registry', 10],
      ['kafka-1', 11],
      ['kafka-2', 12],
      ['kafka-3', 13],
    ])
  })

  it('is running only while every process it names is ours and alive', () => {
    const stateDir = newStateDir()
    const [registry, kafka] = [processMarked(stateDir), processMarked(stateDir)]
    expect(isStackRunning(stateIn(stateDir, { registry, kafka: [kafka] }))).toBe(true)
    // A PID the OS gave to a program that is not ours: its command line lacks the folder.
    const stranger = processMarked('something-else')
    expect(isStackRunning(stateIn(stateDir, { registry, kafka: [kafka, stranger] }))).toBe(false)
  })

  it('updates in place, and does nothing once the stack is gone', () => {
    const stateDir = newStateDir()
    writeStackState(stateIn(stateDir, { registry: 10, kafka: [11] }))
    const updated = updateStackState(stateDir, (state) => ({ ...state, startedAt: 'later' }))
    expect(updated?.startedAt).toBe('later')
    expect(readStackState(stateDir)?.startedAt).toBe('later')
    expect(updateStackState(newStateDir(), (state) => state)).toBeUndefined()
  })

  it('reads a file from before clusters (one `kafka.process`) as node 1', () => {
    const stateDir = newStateDir()
    const { nodes: _, ...kafka } = stateIn(stateDir, { registry: 10, kafka: [] }).kafka
    writeFileSync(
      stackStateFile(stateDir),
      JSON.stringify({
        ...stateIn(stateDir, { registry: 10, kafka: [] }),
        kafka: {
          ...kafka,
          brokers: ['127.0.0.1:9'],
          process: { pid: 7, logFile: 'b.out', version: '4.4.0' },
        },
      }),
    )
    expect(readStackState(stateDir)?.kafka.nodes).toEqual([
      { id: 1, listener: '127.0.0.1:9', pid: 7, logFile: 'b.out', version: '4.4.0' },
    ])
  })

  it('names the file when it is not a stack state file', () => {
    const stateDir = newStateDir()
    writeFileSync(stackStateFile(stateDir), '{"kafka": ')
    expect(() => readStackState(stateDir)).toThrow(
      `${stackStateFile(stateDir)} is not a readable stack state file`,
    )
    writeFileSync(stackStateFile(stateDir), '{"kafka": {}}')
    expect(() => readStackState(stateDir)).toThrow(`${stackStateFile(stateDir)} is not a stack state file`)
  })
})
