/**
 * Wraps a batch's task so that batches of one partition run one after another, in the order
 * they were given, while other partitions' run beside them (runInFlight runs up to its limit at
 * once, and HTTP keeps no order of its own). When a batch's task fails, the later batches of its
 * partition fail with the same error without running: nothing is delivered after a batch that
 * was not, and the runtime restarts from the last commit.
 */
export function inPartitionOrder<T extends { readonly partitionKey: string }, U>(
  task: (batch: T) => Promise<U>,
): (batch: T) => Promise<U> {
  const last = new Map<string, Promise<unknown>>()
  return (batch) => {
    const key = batch.partitionKey
    const previous = last.get(key) ?? Promise.resolve()
    const run = previous.then(() => task(batch))
    last.set(key, run)
    const forget = () => {
      if (last.get(key) === run) last.delete(key)
    }
    run.then(forget, forget)
    return run
  }
}
