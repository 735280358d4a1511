import { describe, expect, it } from 'vitest'
import type { PipelineEndpoints } from '@audit-pipeline/stack-state'
import { exitCodeOf, runDemo, type DemoSteps } from './demo.js'

const running: PipelineEndpoints = {
  ownerPid: 4242,
  queryApi: { url: 'http://127.0.0.1:1', key: 'local-auditor.secret' },
  webhookLog: '/nowhere/webhooks.ndjson',
  inboxUrl: 'http://127.0.0.1:2',
}

/** Steps that record what was done, in order; the CLI demo ends with `code` unless told otherwise. */
function recordingSteps(options: { running?: PipelineEndpoints; cliExit?: Promise<number>; code?: number }) {
  const done: string[] = []
  let interrupt: (() => void) | undefined
  const steps: DemoSteps = {
    runningPipeline: () => options.running,
    startPipeline: () => {
      done.push('start pipeline')
      return Promise.resolve({
        services: [{ name: 'normalizer' }, { name: 'alerting' }],
        stop: () => {
          done.push('stop pipeline')
          return Promise.resolve()
        },
      })
    },
    startCliDemo: () => {
      done.push('run cli demo')
      return {
        exited: options.cliExit ?? Promise.resolve(options.code ?? 0),
        stop: () => done.push('stop cli demo'),
      }
    },
    onInterrupt: (handler) => {
      interrupt = handler
      return () => {
        interrupt = undefined
      }
    },
    exit: (code) => done.push(`exit ${code}`),
    log: (line) => done.push(`log: ${line}`),
  }
  return { steps, done, interrupt: () => interrupt?.() }
}

describe('audit-stack demo', () => {
  it('with a pipeline running, only runs the CLI demo and answers its exit code', async () => {
    const { steps, done } = recordingSteps({ running, code: 3 })

    expect(await runDemo(steps)).toBe(3)

    expect(done).toEqual(['run cli demo'])
  })

  it('without one, starts a pipeline, runs the CLI demo on it, stops it and answers its exit code', async () => {
    const { steps, done } = recordingSteps({ code: 1 })

    expect(await runDemo(steps)).toBe(1)

    expect(done).toEqual([
      'log: Starting the pipeline: Kafka, the schema registry, embedded ClickHouse and every service…',
      'start pipeline',
      'log: Pipeline up (normalizer, alerting).',
      'run cli demo',
      'log: Stopping the pipeline…',
      'stop pipeline',
    ])
  })

  it('stops the pipeline it started when the CLI demo cannot run', async () => {
    const { steps, done } = recordingSteps({ cliExit: Promise.reject(new Error('spawn ENOENT')) })

    await expect(runDemo(steps)).rejects.toThrow('spawn ENOENT')

    expect(done.slice(-1)).toEqual(['stop pipeline'])
  })

  it('on Ctrl-C, stops the CLI demo and the pipeline once, then exits 130', async () => {
    let endCli: (code: number) => void = () => undefined
    const cliExit = new Promise<number>((resolve) => (endCli = resolve))
    const { steps, done, interrupt } = recordingSteps({ cliExit })

    const demo = runDemo(steps)
    await expect.poll(() => done).toContain('run cli demo')
    interrupt()
    endCli(130)

    expect(await demo).toBe(130)
    await expect.poll(() => done).toContain('exit 130')
    expect(done.filter((step) => step === 'stop pipeline')).toHaveLength(1)
    expect(done.indexOf('stop cli demo')).toBeLessThan(done.indexOf('stop pipeline'))
  })
})

describe('exitCodeOf', () => {
  it('is the code, or 128 + the signal number as a shell says it', () => {
    expect(exitCodeOf(0, null)).toBe(0)
    expect(exitCodeOf(2, null)).toBe(2)
    expect(exitCodeOf(null, 'SIGINT')).toBe(130)
    expect(exitCodeOf(null, 'SIGTERM')).toBe(143)
  })
})
