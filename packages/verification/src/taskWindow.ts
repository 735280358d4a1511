/**
 * At most `limit` tasks running: `add` waits while the window is full, so whoever reads the next
 * page waits for the work on earlier pages instead of holding every page in memory. The first
 * failure is thrown by the next `add` or by `drain`; later tasks still run to their end, so none
 * is left unobserved.
 */
export type TaskWindow = { add(task: Promise<unknown>): Promise<void>; drain(): Promise<void> }

export function taskWindow(limit: number): TaskWindow {
  const running = new Set<Promise<void>>()
  let failure: { error: unknown } | undefined
  const rethrow = () => {
    if (failure !== undefined) throw failure.error
  }
  return {
    async add(task) {
      rethrow()
      const tracked: Promise<void> = task.then(
        () => {
          running.delete(tracked)
        },
        (error: unknown) => {
          failure ??= { error }
          running.delete(tracked)
        },
      )
      running.add(tracked)
      while (running.size >= Math.max(1, limit)) await Promise.race(running)
      rethrow()
    },
    async drain() {
      await Promise.all(running)
      rethrow()
    },
  }
}

/** `work` over every item, at most `limit` at a time; results in the items' order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failed = false
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++
      try {
        results[index] = await work(items[index] as T)
      } catch (error) {
        // The others stop taking items; the first failure is what the caller sees.
        failed = true
        throw error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  return results
}
