import type { Committable } from '../kafkaRecord.js'
import type { ProcessingStep } from '../processingStep.js'

type Task<U> = {
  readonly committable: Committable
  /** Settles when the task does; never rejects (the outcome is kept in `settled`). */
  readonly finished: Promise<void>
  settled?: { ok: true; value: U } | { ok: false; error: unknown }
}

/**
 * Runs `task` for each message in the background, at most `maxInFlight` at a time, handing
 * results on in submission order: a batch is written while the next one fills. Submitting waits
 * while `maxInFlight` tasks run. A task's failure fails the next submit, poll or join, so the
 * runtime restarts from the last commit; nothing after a failed task is handed on.
 */
export function runInFlight<T, U>(
  task: (payload: T) => Promise<U>,
  options: { maxInFlight: number },
  next: ProcessingStep<U>,
): ProcessingStep<T> {
  const queue: Task<U>[] = []

  /** Hands on finished tasks from the front of the queue; with `wait`, waits for the front one. */
  const forward = async (wait: boolean) => {
    for (let first = true; ; first = false) {
      const front = queue[0]
      if (!front) return
      if (wait && first) await front.finished
      const { settled } = front
      if (!settled) return
      if (!settled.ok) throw settled.error
      queue.shift()
      await next.submit({ payload: settled.value, committable: front.committable })
    }
  }

  return {
    async submit(message) {
      await forward(false)
      while (queue.length >= options.maxInFlight) await forward(true)
      const entry: Task<U> = {
        committable: message.committable,
        finished: (async () => task(message.payload))().then(
          (value) => void (entry.settled = { ok: true, value }),
          (error: unknown) => void (entry.settled = { ok: false, error }),
        ),
      }
      queue.push(entry)
    },
    async poll() {
      await forward(false)
      await next.poll()
    },
    async join() {
      while (queue.length > 0) await forward(true)
      await next.join()
    },
    async close() {
      await Promise.all(queue.splice(0).map((entry) => entry.finished))
      await next.close()
    },
  }
}
