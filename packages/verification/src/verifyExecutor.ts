import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import {
  createChainCheck,
  type ChainCheckInit,
  type ChainVerification,
  type RowDigests,
} from './chainCheck.js'
import { chainRowsOfPage } from './chainPages.js'
import { digestStoredEvents, type EventDigests } from './eventDigests.js'
import { encodeDigests, type WorkerRequest, type WorkerResponse } from './workerProtocol.js'

/**
 * One chain's check, wherever it runs: pages in seq order (Native bytes, given away: decoded where
 * the chain is checked), each with its rows' stored digests, then its result.
 */
export type ChainTask = {
  /** `digests` null: every row's event is stored as its entry records it. */
  add(bytes: Buffer, digests: RowDigests | null): Promise<void>
  finish(): Promise<ChainVerification>
}

/**
 * Where verification's CPU work runs: digesting the stored events ClickHouse found differing, and
 * checking chains. Worker threads when asked for (and the compiled worker script exists; tests run
 * the sources, and then everything runs in this thread), else this thread. The work is the same
 * pure functions either way.
 */
export type VerifyExecutor = {
  /** Worker threads doing the work (0: this thread does). */
  readonly threads: number
  digest(bytes: Buffer): Promise<EventDigests>
  openChain(init: ChainCheckInit): ChainTask
  close(): Promise<void>
}

export type ExecutorOptions = {
  /**
   * Worker threads; default none. ClickHouse digests the events and checks the entries' hashes,
   * and what is left here costs less than handing pages to workers: on the 2-CPU development
   * machine, 400,000 events verified at 283,000/s in this thread against 255,000/s with two
   * workers (bench, embedded ClickHouse).
   */
  threads?: number
  /** The compiled worker (default: verifyWorker.js beside this module, when it exists). */
  workerScript?: URL
}

const defaultWorkerScript = new URL('./verifyWorker.js', import.meta.url)

export function createVerifyExecutor(options: ExecutorOptions = {}): VerifyExecutor {
  const script = options.workerScript ?? defaultWorkerScript
  const threads = Math.min(options.threads ?? 0, availableParallelism(), 8)
  if (threads <= 0 || !existsSync(fileURLToPath(script))) return inThreadExecutor()
  return workerExecutor(script, threads)
}

function inThreadExecutor(): VerifyExecutor {
  return {
    threads: 0,
    digest: (bytes) => Promise.resolve(digestStoredEvents(bytes)),
    openChain(init) {
      const check = createChainCheck(init)
      const { tenant, chain } = init.plan
      return {
        add: (bytes, digests) => Promise.resolve(check.add(chainRowsOfPage(bytes, tenant, chain), digests)),
        finish: () => Promise.resolve(check.finish()),
      }
    },
    close: () => Promise.resolve(),
  }
}

type Pending = { resolve(response: WorkerResponse & { ok: true }): void; reject(error: Error): void }

type PooledWorker = { worker: Worker; pending: Map<number, Pending>; sessions: number; failed?: Error }

function workerExecutor(script: URL, threads: number): VerifyExecutor {
  let nextId = 0
  // A young generation larger than Node's default: decoding a page makes many short-lived
  // strings and arrays, and the default one is collected so often it costs more than the work.
  const resourceLimits = { maxYoungGenerationSizeMb: 64 }
  const pool: PooledWorker[] = Array.from({ length: threads }, () => {
    const pooled: PooledWorker = {
      worker: new Worker(script, { resourceLimits }),
      pending: new Map(),
      sessions: 0,
    }
    const failAll = (error: Error) => {
      pooled.failed ??= error
      for (const pending of pooled.pending.values()) pending.reject(error)
      pooled.pending.clear()
    }
    pooled.worker.on('message', (response: WorkerResponse) => {
      const pending = pooled.pending.get(response.id)
      if (pending === undefined) return
      pooled.pending.delete(response.id)
      if (response.ok) pending.resolve(response)
      else
        pending.reject(Object.assign(new Error(response.error), { stack: response.stack ?? response.error }))
    })
    pooled.worker.on('error', failAll)
    pooled.worker.on('exit', (code) =>
      failAll(new Error(`a verification worker thread exited (code ${code})`)),
    )
    return pooled
  })

  const send = (pooled: PooledWorker, request: WorkerRequest, transfer: ArrayBuffer[] = []) =>
    new Promise<WorkerResponse & { ok: true }>((resolve, reject) => {
      if (pooled.failed) return reject(pooled.failed)
      pooled.pending.set(request.id, { resolve, reject })
      pooled.worker.postMessage(request, transfer)
    })
  const leastBusy = () => pool.reduce((a, b) => (b.pending.size < a.pending.size ? b : a))

  return {
    threads,
    async digest(bytes) {
      const owned = ownBytes(bytes)
      const response = await send(leastBusy(), { kind: 'digest', id: nextId++, bytes: owned }, [
        owned.buffer as ArrayBuffer,
      ])
      return response.digests ?? { ids: [], digests: [] }
    },
    openChain(init) {
      const pooled = pool.reduce((a, b) => (b.sessions < a.sessions ? b : a))
      pooled.sessions++
      const session = nextId++
      const opened = send(pooled, { kind: 'open', id: nextId++, session, init })
      // Its failure reaches the caller through add or finish, which wait for it; a task dropped
      // after another failed must not leave it unobserved.
      opened.catch(() => undefined)
      return {
        async add(bytes, digests) {
          await opened
          const owned = ownBytes(bytes)
          await send(
            pooled,
            { kind: 'page', id: nextId++, session, bytes: owned, digests: encodeDigests(digests) },
            [owned.buffer as ArrayBuffer],
          )
        },
        async finish() {
          await opened
          try {
            const response = await send(pooled, { kind: 'finish', id: nextId++, session })
            if (response.verification === undefined)
              throw new Error('a verification worker answered without a result')
            return response.verification
          } finally {
            pooled.sessions--
          }
        },
      }
    },
    async close() {
      await Promise.all(pool.map(({ worker }) => worker.terminate()))
    },
  }
}

/**
 * A copy whose ArrayBuffer holds exactly these bytes, to transfer: a Buffer may be a view into a
 * larger (pooled) ArrayBuffer that other Buffers share.
 */
function ownBytes(bytes: Buffer): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes
  return new Uint8Array(bytes)
}
