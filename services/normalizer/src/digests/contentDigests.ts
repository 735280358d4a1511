import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import type { DigestTask } from './digestThread.js'
import { encodedEventDigest } from './encodedEventDigest.js'

/**
 * The content digests of the events the normalizer sends, computed from their encoded form.
 *
 * Every event sent needs one, to be remembered by the dedup window, but none is needed to send it:
 * only a repeat of an id must be judged at once (same content, a replay; other content, a
 * conflict), and repeats are rare. So a flush's digests are computed on a worker thread while
 * Kafka takes the flush, and the one JavaScript thread that reads, normalizes and encodes does not
 * pay for them (about 5 µs an event, 15% of its throughput); a repeat's are computed here.
 */
export type ContentDigests = {
  /** One event's digest, computed on this thread (a repeat's, needed before it can be routed). */
  of(value: Uint8Array): string
  /**
   * The digests of a flush's events, in order: on the worker thread when there is one. Should the
   * worker fail, they are computed here (and `onWorkerError` told): a digest is never missing.
   */
  ofAll(values: readonly Uint8Array[]): Promise<string[]>
  /** Whether a worker thread computes `ofAll`. */
  readonly offThread: boolean
  close(): Promise<void>
}

export type ContentDigestsOptions = {
  /**
   * The compiled worker script (default: digestThread.js beside this module). When it does not
   * exist (tests run the TypeScript sources) everything is computed on this thread.
   */
  workerScript?: URL
  /** Told when the worker failed a task (which was then done on this thread). */
  onWorkerError?: (error: unknown) => void
}

const defaultWorkerScript = new URL('./digestThread.js', import.meta.url)

export function createContentDigests(options: ContentDigestsOptions = {}): ContentDigests {
  const digestOf = encodedEventDigest()
  const inThread = (values: readonly Uint8Array[]) => values.map((value) => digestOf(value))
  const script = options.workerScript ?? defaultWorkerScript
  if (!existsSync(fileURLToPath(script))) {
    return {
      of: digestOf,
      // A rejection, not a throw, should digesting fail: the flush's send goes ahead either way.
      ofAll: (values) => new Promise((resolve) => resolve(inThread(values))),
      offThread: false,
      close: () => Promise.resolve(),
    }
  }
  // One thread: a flush's digests take a few milliseconds of it. At a lower priority (nice), so
  // that on a busy machine it yields to the reading thread and to Kafka, which the digests wait for
  // anyway: they are needed once the flush is acknowledged, not before.
  const pool = new Piscina<DigestTask, string[]>({
    filename: script.href,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
    niceIncrement: 10,
  })
  return {
    of: digestOf,
    async ofAll(values) {
      if (values.length === 0) return []
      const task = packed(values)
      try {
        return await pool.run(task, { transferList: [task.bytes.buffer as ArrayBuffer] })
      } catch (error) {
        options.onWorkerError?.(error)
        return inThread(values)
      }
    },
    offThread: true,
    close: () => pool.destroy(),
  }
}

/** The values end to end in one new buffer, given to the worker rather than copied to it. */
function packed(values: readonly Uint8Array[]): DigestTask {
  let total = 0
  for (const value of values) total += value.byteLength
  const bytes = new Uint8Array(total)
  const ends: number[] = []
  let at = 0
  for (const value of values) {
    bytes.set(value, at)
    at += value.byteLength
    ends.push(at)
  }
  return { bytes, ends }
}
