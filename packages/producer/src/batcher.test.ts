import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createBatcher } from './batcher.js'

/** A send whose calls we can finish or fail by hand. */
function controlledSend() {
  const calls: { items: number[]; finish: () => void; fail: (error: Error) => void }[] = []
  const send = (items: number[]) =>
    new Promise<void>((finish, fail) => {
      calls.push({ items, finish, fail })
    })
  return { calls, send }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('createBatcher', () => {
  it('sends a full batch at once, and a partial one after the linger time', async () => {
    const { calls, send } = controlledSend()
    const batcher = createBatcher({ maxBatchSize: 3, lingerMs: 50, maxBufferedItems: 10, send })
    const acks = [1, 2, 3].map((n) => batcher.add(n))
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3]])
    calls[0]!.finish()
    await Promise.all(acks)

    const late = batcher.add(4)
    await vi.advanceTimersByTimeAsync(49)
    expect(calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3], [4]])
    calls[1]!.finish()
    await late
  })

  it('acknowledges an item only when its batch was sent', async () => {
    const { calls, send } = controlledSend()
    const batcher = createBatcher({ maxBatchSize: 2, lingerMs: 10, maxBufferedItems: 10, send })
    let acknowledged = false
    void batcher.add(1).then(() => (acknowledged = true))
    void batcher.add(2)
    await vi.advanceTimersByTimeAsync(100)
    expect(acknowledged).toBe(false)
    calls[0]!.finish()
    await vi.advanceTimersByTimeAsync(0)
    expect(acknowledged).toBe(true)
  })

  it("rejects every item of a failed batch with the batch's error, and goes on with the next", async () => {
    const { calls, send } = controlledSend()
    const batcher = createBatcher({ maxBatchSize: 2, lingerMs: 10, maxBufferedItems: 10, send })
    const first = [batcher.add(1), batcher.add(2)]
    const second = batcher.add(3)
    calls[0]!.fail(new Error('broker unreachable'))
    for (const ack of first) await expect(ack).rejects.toThrow('broker unreachable')
    await vi.advanceTimersByTimeAsync(0)
    expect(calls.map((c) => c.items)).toEqual([[1, 2], [3]])
    calls[1]!.finish()
    await expect(second).resolves.toBeUndefined()
  })

  it('keeps one batch in flight, so items leave in the order they came', async () => {
    const { calls, send } = controlledSend()
    const batcher = createBatcher({ maxBatchSize: 2, lingerMs: 10, maxBufferedItems: 10, send })
    for (const n of [1, 2, 3, 4, 5]) void batcher.add(n)
    expect(calls).toHaveLength(1)
    calls[0]!.finish()
    await vi.advanceTimersByTimeAsync(0)
    calls[1]!.finish()
    await vi.advanceTimersByTimeAsync(0)
    calls[2]!.finish()
    expect(calls.map((c) => c.items)).toEqual([[1, 2], [3, 4], [5]])
  })

  it('makes add wait for room when the buffer is full', async () => {
    const { calls, send } = controlledSend()
    const batcher = createBatcher({ maxBatchSize: 2, lingerMs: 10, maxBufferedItems: 2, send })
    void batcher.add(1)
    void batcher.add(2) // dispatched: in flight, buffer empty again
    void batcher.add(3)
    void batcher.add(4)
    let fifthAdded = false
    void batcher.add(5).then(() => (fifthAdded = true))
    expect(batcher.buffered).toBe(2)
    calls[0]!.finish()
    await vi.advanceTimersByTimeAsync(0)
    expect(batcher.buffered).toBe(1) // 3 and 4 left; 5 got room
    expect(calls.map((c) => c.items)).toEqual([
      [1, 2],
      [3, 4],
    ])
    calls[1]!.finish()
    await vi.advanceTimersByTimeAsync(10)
    calls[2]!.finish()
    await vi.advanceTimersByTimeAsync(0)
    expect(fifthAdded).toBe(true)
  })

  it('flush sends what is buffered without waiting for the linger time', async () => {
    const { calls, send } = controlledSend()
    const batcher = createBatcher({ maxBatchSize: 100, lingerMs: 60_000, maxBufferedItems: 1000, send })
    void batcher.add(1)
    void batcher.add(2)
    const flushed = batcher.flush()
    expect(calls.map((c) => c.items)).toEqual([[1, 2]])
    calls[0]!.finish()
    await flushed
    expect(batcher.buffered).toBe(0)
  })

  it('ends a batch before it passes maxBatchBytes, sending an oversized item alone', async () => {
    const { calls, send } = controlledSend()
    const batcher = createBatcher({
      maxBatchSize: 10,
      maxBatchBytes: 100,
      sizeOf: (n: number) => n,
      lingerMs: 10,
      maxBufferedItems: 100,
      send,
    })
    for (const n of [40, 50, 20, 150, 30]) void batcher.add(n)
    await vi.advanceTimersByTimeAsync(10)
    for (let i = 0; i < 4; i++) {
      calls[i]?.finish()
      await vi.advanceTimersByTimeAsync(0)
    }
    expect(calls.map((c) => c.items)).toEqual([[40, 50], [20], [150], [30]])
  })
})
