import { describe, expect, it } from 'vitest'
import { inPartitionOrder } from './inPartitionOrder.js'

function deferred() {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

type Batch = { partitionKey: string; name: string }

/** A task whose runs wait for the test to settle them; `started` lists them as they start. */
function controlledTask() {
  const started: string[] = []
  const runs = new Map<string, ReturnType<typeof deferred>>()
  const task = async (batch: Batch) => {
    started.push(batch.name)
    const run = deferred()
    runs.set(batch.name, run)
    await run.promise
    return batch.name
  }
  return { task, started, settle: (name: string) => runs.get(name)! }
}

/** Lets every settled promise's continuations run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('inPartitionOrder', () => {
  it('runs one partition’s batches one after another, other partitions’ beside them', async () => {
    const { task, started, settle } = controlledTask()
    const ordered = inPartitionOrder(task)
    const a1 = ordered({ partitionKey: 'a', name: 'a1' })
    const a2 = ordered({ partitionKey: 'a', name: 'a2' })
    const b1 = ordered({ partitionKey: 'b', name: 'b1' })
    await settled()
    expect(started).toEqual(['a1', 'b1'])
    settle('b1').resolve()
    expect(await b1).toBe('b1')
    expect(started).toEqual(['a1', 'b1'])
    settle('a1').resolve()
    expect(await a1).toBe('a1')
    await settled()
    expect(started).toEqual(['a1', 'b1', 'a2'])
    settle('a2').resolve()
    expect(await a2).toBe('a2')
  })

  it('fails the later batches of a partition whose batch failed, without running them', async () => {
    const { task, started, settle } = controlledTask()
    const ordered = inPartitionOrder(task)
    const a1 = ordered({ partitionKey: 'a', name: 'a1' })
    const a2 = ordered({ partitionKey: 'a', name: 'a2' })
    const b1 = ordered({ partitionKey: 'b', name: 'b1' })
    await settled()
    settle('a1').reject(new Error('dead letters not written'))
    await expect(a1).rejects.toThrow('dead letters not written')
    await expect(a2).rejects.toThrow('dead letters not written')
    settle('b1').resolve()
    expect(await b1).toBe('b1')
    expect(started).toEqual(['a1', 'b1'])
  })
})
