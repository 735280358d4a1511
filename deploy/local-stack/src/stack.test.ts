import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isAlive, readStackState, writeStackState, type StackState } from '@audit-pipeline/stack-state'
import { startStack, stopStack } from './stack.js'

const strangers: number[] = []
afterEach(() => {
  for (const pid of strangers.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
})

/** A stand-in for one of the stack's JVMs: its arguments carry the state folder, as -Daudit.stack=… does. */
function ours(stateDir: string): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)', stateDir], { stdio: 'ignore' })
  strangers.push(child.pid!)
  return child.pid!
}

/** A process that is not the stack's: its command line does not mention the state folder. */
function stranger(): number {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' })
  strangers.push(child.pid!)
  return child.pid!
}

function stateWith(stateDir: string, pids: { kafka: number; registry: number }): StackState {
  return {
    stateDir,
    startedAt: new Date().toISOString(),
    kafka: {
      brokers: ['127.0.0.1:1'],
      topics: [],
      nodes: [{ id: 1, listener: '127.0.0.1:1', pid: pids.kafka, logFile: 'k.log', version: '4.4.0' }],
    },
    schemaRegistry: {
      url: 'http://127.0.0.1:2/apis/ccompat/v7',
      process: { pid: pids.registry, logFile: 'r.log', version: '3.3.3' },
    },
    clickhouse: { kind: 'embedded', dataPath: join(stateDir, 'clickhouse'), database: 'audit' },
  }
}

describe('stopStack', () => {
  it('never signals a PID that now belongs to another program', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'stack-state-'))
    const other = stranger()
    writeStackState(stateWith(stateDir, { kafka: other, registry: other }))

    const result = await stopStack(stateDir)

    expect(result).toEqual([
      { name: 'schema-registry', pid: other, outcome: 'not running' },
      { name: 'kafka-1', pid: other, outcome: 'not running' },
    ])
    expect(isAlive(other)).toBe(true)
    expect(readStackState(stateDir)).toBeUndefined()
  })

  it('stops processes whose command line names the state folder, by PID', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'stack-state-'))
    const [kafka, registry] = [ours(stateDir), ours(stateDir)]
    writeStackState(stateWith(stateDir, { kafka, registry }))

    const result = await stopStack(stateDir)

    expect(result?.map((r) => r.outcome)).toEqual(['stopped', 'stopped'])
    expect(isAlive(kafka) || isAlive(registry)).toBe(false)
  })

  it('says so when no stack is running in the folder', async () => {
    expect(await stopStack(mkdtempSync(join(tmpdir(), 'stack-state-')))).toBeUndefined()
  })
})

describe('startStack on a running stack', () => {
  it('reuses it unless another number of Kafka nodes is asked for, and then says what to do', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'stack-state-'))
    const running = stateWith(stateDir, { kafka: ours(stateDir), registry: ours(stateDir) })
    writeStackState(running)

    const reused = await startStack({ env: {}, stateDir })
    expect(reused).toMatchObject({ reused: true, processes: [] })
    expect(reused.state).toEqual(running)

    await expect(startStack({ env: {}, stateDir, brokers: 3 })).rejects.toThrow(
      `a local stack with 1 Kafka node is already running in ${stateDir}`,
    )
    await expect(startStack({ env: { AUDIT_STACK_BROKERS: '3' }, stateDir })).rejects.toThrow(
      'stop it first (npm run stack:down), or ask for 1',
    )
    await expect(startStack({ env: { AUDIT_STACK_BROKERS: '4' }, stateDir })).rejects.toThrow(
      'AUDIT_STACK_BROKERS: expected one of: 1, 3 (got "4")',
    )
  })
})
