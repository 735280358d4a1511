export type DeadLetterGuardSettings = {
  /** The guard trips when more than this share of a window's records was dead-lettered (0–1]. */
  readonly maxShare: number
  /** …and at least this many were: a few bad records among few never trip it. */
  readonly minDeadLetters: number
  /** The window the share is measured over, ms. */
  readonly windowMs: number
}

export const defaultDeadLetterGuard: DeadLetterGuardSettings = Object.freeze({
  maxShare: 0.5,
  minDeadLetters: 1_000,
  windowMs: 60_000,
})

export type DeadLetterGuard = {
  /** Counts processed records and how many of them were dead-lettered; says whether the guard trips. */
  observe(records: number, deadLettered: number, nowMs: number): 'ok' | 'tripped'
  /** The window so far: for the log line when it trips. */
  readonly window: { readonly records: number; readonly deadLettered: number }
}

/**
 * Whether a consumer is draining its input into the dead-letter topic (arroyo's DlqLimit): a
 * producer sending garbage, or a schema that changed under it, would otherwise move a whole topic
 * to the DLQ at full speed. Counts per fixed window; pure, time passed in.
 */
export function createDeadLetterGuard(settings: DeadLetterGuardSettings): DeadLetterGuard {
  let windowStartMs: number | undefined
  const window = { records: 0, deadLettered: 0 }
  return {
    observe(records, deadLettered, nowMs) {
      if (windowStartMs === undefined || nowMs - windowStartMs >= settings.windowMs) {
        windowStartMs = nowMs
        window.records = 0
        window.deadLettered = 0
      }
      window.records += records
      window.deadLettered += deadLettered
      const tripped =
        window.deadLettered >= settings.minDeadLetters &&
        window.deadLettered > settings.maxShare * window.records
      return tripped ? 'tripped' : 'ok'
    },
    window,
  }
}
