/**
 * A line that keeps events entering the batcher in the order they were given while what comes
 * before (sealing, which waits for the key store) runs concurrently: an event whose key was
 * cached must not overtake an earlier one of the same object whose key was being read, or one
 * object's history would reach Kafka out of order. Each caller takes a place, prepares its event,
 * waits for `ready` (every earlier place has left), adds to the batcher and leaves; a caller that
 * fails leaves too, so one bad event never holds up the ones after it.
 */
export type OrderedAdmission = {
  /** A place at the end of the line. `leave` may be called more than once. */
  enter(): { ready: Promise<void>; leave: () => void }
  /** Resolves once every place taken so far has left: what flush and close wait for first. */
  drained(): Promise<void>
}

export function createOrderedAdmission(): OrderedAdmission {
  let last: Promise<void> = Promise.resolve()
  return {
    enter() {
      const ready = last
      let leave!: () => void
      const left = new Promise<void>((resolve) => (leave = resolve))
      // The line has moved past this place once it and every place before it left, whatever
      // order their callers called `leave` in.
      last = ready.then(() => left)
      return { ready, leave }
    },
    drained: () => last,
  }
}
