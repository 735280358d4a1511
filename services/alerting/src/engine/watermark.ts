import type { TrackedStore } from './trackedStore.js'

/**
 * Per input partition: the newest event time seen (null: none yet), whether it is read to its
 * end, and when (wall clock) it last had an event.
 */
export type SourceClock = { maxEventMs: number | null; caughtUp: boolean; activeAtMs: number }

/** The watermark's state: per source, the watermark itself (it never goes back), the last check. */
export type WatermarkState = {
  sources: Record<string, SourceClock>
  watermarkMs: number | null
  checkedAtMs: number | null
}

export type TimeObservation = {
  /** Older than the watermark: too late for windows. */
  late: boolean
  /** Older than the newest event seen, but within the allowed lateness. */
  outOfOrder: boolean
  watermarkMs: number
  /** The watermark crossed a check interval: look at windows for conditions that cleared. */
  checkDue: boolean
}

/**
 * Event time across input partitions. Each partition (source) has its own newest event time; the
 * watermark trails the slowest partition by the allowed lateness, so a partition read later than
 * another (after a restart, or a fetch behind) is not late against it. A partition read to its
 * end with no event for `idleAfterMs` (wall clock) stops counting, so an idle partition does not
 * stop time (Flink's idleness). It never goes back. Kept in a store so it survives restarts with
 * the windows it governs.
 */
export function createWatermark(
  allowedLatenessMs: number,
  checkIntervalMs: number,
  idleAfterMs: number,
  store: TrackedStore<WatermarkState>,
) {
  const state: WatermarkState = { sources: {}, watermarkMs: null, checkedAtMs: null }
  let newestMs = Number.NEGATIVE_INFINITY
  const save = () => store.set('time', state)
  const current = () => state.watermarkMs ?? Number.NEGATIVE_INFINITY

  const recompute = (nowMs: number) => {
    const clocks = Object.values(state.sources)
    const counting = clocks.filter((clock) => !clock.caughtUp || nowMs - clock.activeAtMs < idleAfterMs)
    let candidate: number
    if (counting.length > 0) {
      // A partition with a backlog and nothing read yet holds time where it is.
      if (counting.some((clock) => clock.maxEventMs === null)) return
      candidate = Math.min(...counting.map((clock) => clock.maxEventMs ?? 0))
    } else {
      const seen = clocks.flatMap((clock) => (clock.maxEventMs === null ? [] : [clock.maxEventMs]))
      if (seen.length === 0) return
      candidate = Math.max(...seen)
    }
    const next = candidate - allowedLatenessMs
    if (next > current()) {
      state.watermarkMs = next
      save()
    }
  }

  const clockOf = (source: string, nowMs: number): SourceClock => {
    let clock = state.sources[source]
    if (!clock) {
      clock = { maxEventMs: null, caughtUp: false, activeAtMs: nowMs }
      state.sources[source] = clock
    }
    return clock
  }

  return {
    current,
    observe(eventMs: number, source: string, nowMs: number): TimeObservation {
      const late = eventMs < current()
      const outOfOrder = eventMs < newestMs
      newestMs = Math.max(newestMs, eventMs)
      const clock = clockOf(source, nowMs)
      clock.activeAtMs = nowMs
      if (clock.maxEventMs === null || eventMs > clock.maxEventMs) {
        clock.maxEventMs = eventMs
        save()
        recompute(nowMs)
      }
      const watermarkMs = current()
      const checkDue =
        Number.isFinite(watermarkMs) &&
        (state.checkedAtMs === null ||
          Math.floor(watermarkMs / checkIntervalMs) > Math.floor(state.checkedAtMs / checkIntervalMs))
      if (checkDue) {
        state.checkedAtMs = watermarkMs
        save()
      }
      return { late, outOfOrder, watermarkMs, checkDue }
    },
    /** The partitions now read, and which are read to their end (after a rebalance or a start). */
    assign(sources: readonly { source: string; caughtUp: boolean }[], nowMs: number): void {
      const previous = state.sources
      state.sources = {}
      for (const { source, caughtUp } of sources) {
        state.sources[source] = {
          maxEventMs: previous[source]?.maxEventMs ?? null,
          caughtUp,
          activeAtMs: nowMs,
        }
      }
      save()
      recompute(nowMs)
    },
    /** After a batch: whether its partition is now read to its end. */
    readTo(source: string, caughtUp: boolean, nowMs: number): void {
      const clock = clockOf(source, nowMs)
      clock.caughtUp = caughtUp
      save()
      recompute(nowMs)
    },
    restore(saved: WatermarkState): void {
      state.sources = saved.sources
      state.watermarkMs = saved.watermarkMs
      state.checkedAtMs = saved.checkedAtMs
      for (const clock of Object.values(saved.sources))
        newestMs = Math.max(newestMs, clock.maxEventMs ?? newestMs)
    },
  }
}

export type Watermark = ReturnType<typeof createWatermark>
