/**
 * When `npm start` restarts a process that exited: capped exponential backoff, reset once a run
 * has stayed up for a while, and an optional limit on quick exits in a row. Pure: the supervisor
 * (supervisor.ts) passes the times in.
 */
export type RestartPolicy = {
  /** The wait before restarting after a run that stayed up, ms. */
  readonly initialDelayMs: number
  /** The longest wait, ms. */
  readonly maxDelayMs: number
  /** Each quick exit in a row multiplies the wait by this. */
  readonly multiplier: number
  /** A run at least this long was healthy: its exit starts the backoff from the beginning, ms. */
  readonly stableAfterMs: number
  /** Quick exits in a row after which the process is given up on; undefined: never give up. */
  readonly maxConsecutiveRestarts?: number
}

export const defaultRestartPolicy: RestartPolicy = Object.freeze({
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  multiplier: 2,
  stableAfterMs: 60_000,
})

/** What the supervisor remembers about one process across its runs. */
export type RestartRecord = {
  /** Restarts so far. */
  readonly restarts: number
  /** Exits in a row that came before the run was stable (the one being decided included). */
  readonly quickExitsInARow: number
}

export const noRestartsYet: RestartRecord = Object.freeze({ restarts: 0, quickExitsInARow: 0 })

export type RestartDecision =
  | { action: 'restart'; delayMs: number; record: RestartRecord }
  | { action: 'give up'; reason: string; record: RestartRecord }

/** Whether, and after how long, to restart a process whose run went from `startedAtMs` to `exitedAtMs`. */
export function decideRestart(
  policy: RestartPolicy,
  record: RestartRecord,
  run: { startedAtMs: number; exitedAtMs: number },
): RestartDecision {
  const stable = run.exitedAtMs - run.startedAtMs >= policy.stableAfterMs
  const quickExitsInARow = stable ? 0 : record.quickExitsInARow + 1
  const limit = policy.maxConsecutiveRestarts
  if (limit !== undefined && quickExitsInARow > limit) {
    return {
      action: 'give up',
      reason: `it exited ${quickExitsInARow} times in a row within ${policy.stableAfterMs / 1000} s of starting (limit ${limit}, AUDIT_STACK_MAX_RESTARTS)`,
      record: { ...record, quickExitsInARow },
    }
  }
  // min() also covers multiplier ** n overflowing to Infinity after many exits.
  const delayMs = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.multiplier ** Math.max(0, quickExitsInARow - 1),
  )
  return { action: 'restart', delayMs, record: { restarts: record.restarts + 1, quickExitsInARow } }
}
