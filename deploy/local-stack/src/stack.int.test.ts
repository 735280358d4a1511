import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { waitFor } from '@audit-pipeline/testing'
import { isAlive, readStackState, stackProcesses } from '@audit-pipeline/stack-state'
import { startStack, stopStack } from './stack.js'

const endpoints = inject('stack')
const runStateDir = inject('stackStateDir')

describe('local stack', () => {
  it('reuses the stack already running in its folder and leaves it running', async () => {
    const before = readStackState(runStateDir)
    expect(before).toBeDefined()

    const second = await startStack({ env: {}, stateDir: runStateDir })
    expect(second.reused).toBe(true)
    expect(second.state.kafka.brokers).toEqual(endpoints.kafkaBrokers)
    expect(second.state.schemaRegistry.url).toBe(endpoints.schemaRegistryUrl)

    await second.stop()
    expect(readStackState(runStateDir)).toEqual(before)
    for (const { process } of stackProcesses(before!)) expect(isAlive(process.pid)).toBe(true)
  })

  it('stops itself when the process that owns it dies without cleaning up', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'owned-stack-'))
    onTestFinished(async () => {
      await stopStack(stateDir)
      rmSync(stateDir, { recursive: true, force: true })
    })
    // The owner: a process we will SIGKILL, as when a test run or `npm start` is killed.
    const owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' })
    onTestFinished(() => void owner.kill('SIGKILL'))

    // Kafka comes from the run's stack, so only a schema registry is started here.
    const stack = await startStack({
      env: { KAFKA_BROKERS: endpoints.kafkaBrokers.join(',') },
      stateDir,
      ownerPid: owner.pid!,
    })
    const registryPid = stack.state.schemaRegistry.process?.pid
    expect(stack.state.kafka.nodes).toBeUndefined()
    expect(registryPid).toBeDefined()
    expect(isAlive(registryPid!)).toBe(true)

    owner.kill('SIGKILL')

    await waitFor(() => !isAlive(registryPid!), {
      timeoutMs: 30_000,
      description: "the watchdog to stop the dead owner's schema registry",
    })
    await waitFor(() => !existsSync(join(stateDir, 'stack.json')), {
      timeoutMs: 5_000,
      description: 'the watchdog to remove the state file',
    })
  })
})
