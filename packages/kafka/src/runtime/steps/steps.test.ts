import { describe, expect, it } from 'vitest'
import { committableOf, type StreamMessage } from '../kafkaRecord.js'
import type { ProcessingStep } from '../processingStep.js'
import { StepInterrupted } from '../recordFailure.js'
import { commitOffsets } from './commitOffsets.js'
import { reduce } from './reduce.js'
import { runInFlight } from './runInFlight.js'
import { runTask, type Processed } from './runTask.js'

/** A last step that keeps what it was given, for asserting on. */
function collector<T>() {
  const received: { payload: T; offsets: string[] }[] = []
  const calls: string[] = []
  const step: ProcessingStep<T> = {
    submit: (message) => {
      received.push({
        payload: message.payload,
        offsets: [...message.committable.values()].map((p) => `${p.topic}/${p.partition}@${p.offset}`),
      })
      return Promise.resolve()
    },
    poll: () => (calls.push('poll'), Promise.resolve()),
    join: () => (calls.push('join'), Promise.resolve()),
    close: () => (calls.push('close'), Promise.resolve()),
  }
  return { step, received, calls }
}

const message = <T>(payload: T, offset: number, partition = 0): StreamMessage<T> => ({
  payload,
  committable: committableOf({ topic: 't', partition, offset: String(offset) }),
})

describe('runTask', () => {
  it('hands on each outcome with its committable; a throw becomes that record failure and the next goes on', async () => {
    const { step, received } = collector<Processed<number, number>>()
    const task = runTask((n: number) => {
      if (n === 2) throw new RangeError('Maximum call stack size exceeded')
      return n * 10
    }, step)
    for (const n of [1, 2, 3]) await task.submit(message(n, n))
    expect(received).toEqual([
      { payload: { input: 1, outcome: { ok: true, value: 10 } }, offsets: ['t/0@2'] },
      {
        payload: {
          input: 2,
          outcome: {
            ok: false,
            failure: {
              errorClass: 'RECORD_FAILED',
              reason: 'RANGE_ERROR',
              message: 'processing the record failed: RangeError: Maximum call stack size exceeded',
            },
          },
        },
        offsets: ['t/0@3'],
      },
      { payload: { input: 3, outcome: { ok: true, value: 30 } }, offsets: ['t/0@4'] },
    ])
  })

  it('keeps a final coded error as its class and lets an outage through to hold the partition', async () => {
    const coded = Object.assign(new Error('bad magic byte'), { code: 'EVENT_UNDECODABLE', retriable: false })
    const outage = Object.assign(new Error('registry down'), {
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
    })
    const { step, received } = collector<Processed<number, number>>()
    await runTask(() => Promise.reject(coded), step).submit(message(0, 0))
    expect(received[0]?.payload.outcome).toEqual({
      ok: false,
      failure: { errorClass: 'EVENT_UNDECODABLE', message: 'bad magic byte' },
    })
    await expect(runTask(() => Promise.reject(outage), step).submit(message(0, 1))).rejects.toBe(outage)
    // Work a stop cut short is neither done nor failed: never a dead letter.
    const interrupted = new StepInterrupted('stopping')
    await expect(runTask(() => Promise.reject(interrupted), step).submit(message(0, 2))).rejects.toBe(
      interrupted,
    )
    expect(received).toHaveLength(1)
  })
})

describe('reduce', () => {
  const sum = (
    options: Partial<Parameters<typeof reduce<number, number[]>>[0]>,
    next: ProcessingStep<number[]>,
  ) =>
    reduce<number, number[]>(
      {
        initial: () => [],
        accumulate: (batch, n) => (batch.push(n), batch),
        maxMessages: 3,
        maxAgeMs: 1_000,
        ...options,
      },
      next,
    )

  it('closes by count, merging committables so the later offset per partition wins', async () => {
    const { step, received } = collector<number[]>()
    const batches = sum({}, step)
    await batches.submit(message(1, 5, 0))
    await batches.submit(message(2, 9, 1))
    await batches.submit(message(3, 6, 0))
    await batches.submit(message(4, 7, 0))
    expect(received).toEqual([{ payload: [1, 2, 3], offsets: ['t/0@7', 't/1@10'] }])
    await batches.join()
    expect(received[1]).toEqual({ payload: [4], offsets: ['t/0@8'] })
  })

  it('closes before a message would pass maxBytes, a larger one alone', async () => {
    const { step, received } = collector<number[]>()
    const batches = sum({ maxMessages: 100, maxBytes: 10, sizeOf: (n) => n }, step)
    for (const [i, n] of [4, 4, 4, 20, 1].entries()) await batches.submit(message(n, i))
    await batches.join()
    expect(received.map((r) => r.payload)).toEqual([[4, 4], [4], [20], [1]])
  })

  it('closes by age on poll, with time injected, and on every poll with closeOnPoll', async () => {
    let nowMs = 0
    const { step, received } = collector<number[]>()
    const batches = sum({ maxMessages: 100, maxAgeMs: 50, now: () => nowMs }, step)
    await batches.submit(message(1, 0))
    nowMs = 49
    await batches.poll()
    expect(received).toHaveLength(0)
    nowMs = 50
    await batches.poll()
    expect(received.map((r) => r.payload)).toEqual([[1]])
    const eager = collector<number[]>()
    const perFetch = sum({ maxMessages: 100, closeOnPoll: true }, eager.step)
    await perFetch.submit(message(7, 0))
    await perFetch.poll()
    expect(eager.received.map((r) => r.payload)).toEqual([[7]])
  })

  it('drops what it holds on close, passing nothing on', async () => {
    const { step, received, calls } = collector<number[]>()
    const batches = sum({}, step)
    await batches.submit(message(1, 0))
    await batches.close()
    await batches.join()
    expect(received).toEqual([])
    expect(calls).toEqual(['close', 'join'])
  })
})

describe('runInFlight', () => {
  const deferred = () => {
    let resolve!: (value: string) => void
    let reject!: (error: unknown) => void
    const promise = new Promise<string>((res, rej) => ((resolve = res), (reject = rej)))
    return { promise, resolve, reject }
  }

  it('runs up to maxInFlight at once and hands results on in submission order', async () => {
    const tasks = [deferred(), deferred(), deferred()]
    const { step, received } = collector<string>()
    const inFlight = runInFlight((i: number) => tasks[i]!.promise, { maxInFlight: 2 }, step)
    await inFlight.submit(message(0, 0))
    await inFlight.submit(message(1, 1))
    let thirdTaken = false
    const third = inFlight.submit(message(2, 2)).then(() => (thirdTaken = true))
    tasks[1]!.resolve('b')
    await inFlight.poll()
    expect(received).toEqual([])
    expect(thirdTaken).toBe(false)
    tasks[0]!.resolve('a')
    await third
    expect(received.map((r) => r.payload)).toEqual(['a', 'b'])
    tasks[2]!.resolve('c')
    await inFlight.join()
    expect(received.map((r) => [r.payload, r.offsets])).toEqual([
      ['a', ['t/0@1']],
      ['b', ['t/0@2']],
      ['c', ['t/0@3']],
    ])
  })

  it('fails the next call after a failed task and hands on nothing after it', async () => {
    const tasks = [deferred(), deferred()]
    const { step, received } = collector<string>()
    const inFlight = runInFlight((i: number) => tasks[i]!.promise, { maxInFlight: 2 }, step)
    await inFlight.submit(message(0, 0))
    await inFlight.submit(message(1, 1))
    tasks[1]!.resolve('b')
    tasks[0]!.reject(new Error('insert refused'))
    await expect(inFlight.join()).rejects.toThrow('insert refused')
    expect(received).toEqual([])
    await inFlight.close()
  })
})

describe('commitOffsets', () => {
  it('commits each message committable, nothing for an empty one', async () => {
    const commits: string[][] = []
    const step = commitOffsets<number>((offsets) => {
      commits.push(offsets.map((p) => `${p.topic}/${p.partition}@${p.offset}`))
      return Promise.resolve()
    })
    await step.submit(message(1, 41))
    await step.submit({ payload: 2, committable: new Map() })
    expect(commits).toEqual([['t/0@42']])
  })
})
