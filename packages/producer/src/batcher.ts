/**
 * Collects items into batches and sends one batch at a time: a batch goes when it is full or
 * when its first item has waited `lingerMs`. Each `add` resolves only when the batch holding its
 * item was sent (for the producer: acknowledged by Kafka), and rejects with that batch's error.
 * A batch also ends where its size would pass `maxBatchBytes`.
 * One batch in flight at a time keeps items in the order they were added; at most
 * `maxBufferedItems` wait, and `add` waits for room beyond that, so memory stays bounded.
 */
export type BatcherOptions<T> = {
  maxBatchSize: number
  /** A batch also ends before its items' `sizeOf` would pass this (an item alone may). */
  maxBatchBytes?: number
  sizeOf?: (item: T) => number
  lingerMs: number
  maxBufferedItems: number
  send: (items: T[]) => Promise<void>
}

export type Batcher<T> = {
  add(item: T): Promise<void>
  /** Sends everything added so far and resolves when it is all sent (or failed). */
  flush(): Promise<void>
  /** Items added and not yet sent. */
  readonly buffered: number
}

type Pending<T> = { item: T; done: Promise<void>; resolve: () => void; reject: (error: unknown) => void }

export function createBatcher<T>(options: BatcherOptions<T>): Batcher<T> {
  if (options.maxBatchSize < 1 || options.maxBufferedItems < options.maxBatchSize) {
    throw new RangeError('maxBatchSize must be at least 1 and maxBufferedItems at least maxBatchSize')
  }
  let pending: Pending<T>[] = []
  let inFlight: Promise<void> | undefined
  let lingerTimer: NodeJS.Timeout | undefined
  let lingerElapsed = false
  const waitingForRoom: (() => void)[] = []

  const dispatch = () => {
    if (inFlight || pending.length === 0) return
    if (pending.length < options.maxBatchSize && !lingerElapsed) return
    clearTimeout(lingerTimer)
    lingerTimer = undefined
    lingerElapsed = false
    const batch = pending.slice(0, batchLength())
    pending = pending.slice(batch.length)
    while (waitingForRoom.length > 0 && pending.length < options.maxBufferedItems) waitingForRoom.shift()!()
    inFlight = options
      .send(batch.map((p) => p.item))
      .then(
        () => batch.forEach((p) => p.resolve()),
        (error: unknown) => batch.forEach((p) => p.reject(error)),
      )
      .finally(() => {
        inFlight = undefined
        // Whatever queued up meanwhile has waited at least as long as the batch took.
        if (pending.length > 0) lingerElapsed = true
        dispatch()
      })
  }

  /** How many pending items make the next batch: up to maxBatchSize and maxBatchBytes. */
  const batchLength = () => {
    const { maxBatchBytes, sizeOf } = options
    const limit = Math.min(options.maxBatchSize, pending.length)
    if (maxBatchBytes === undefined || sizeOf === undefined) return limit
    let bytes = 0
    for (let i = 0; i < limit; i++) {
      bytes += sizeOf(pending[i]!.item)
      if (bytes > maxBatchBytes) return Math.max(i, 1)
    }
    return limit
  }

  const startLinger = () => {
    if (lingerTimer || inFlight) return
    lingerTimer = setTimeout(() => {
      lingerTimer = undefined
      lingerElapsed = true
      dispatch()
    }, options.lingerMs)
  }

  const batcher: Batcher<T> = {
    async add(item) {
      while (pending.length >= options.maxBufferedItems) {
        await new Promise<void>((resolve) => waitingForRoom.push(resolve))
      }
      let settle!: Pick<Pending<T>, 'resolve' | 'reject'>
      const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
      pending.push({ item, done, ...settle })
      if (pending.length >= options.maxBatchSize) dispatch()
      else startLinger()
      return done
    },
    async flush() {
      // Errors reach the callers of `add`; flush only waits for every item to be settled.
      const everything = [...pending.map((p) => p.done), ...(inFlight ? [inFlight] : [])]
      lingerElapsed = true
      dispatch()
      await Promise.allSettled(everything)
    },
    get buffered() {
      return pending.length
    },
  }
  return batcher
}
