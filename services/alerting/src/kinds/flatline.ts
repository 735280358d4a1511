import {
  addToBucket,
  bucketMsFor,
  countBetween,
  dropBucketsBefore,
  type BucketCounts,
} from './bucketCounts.js'
import type { KindLogic, Verdict } from './ruleKind.js'

/** Counts per bucket over the window; when the group was first and last seen. */
export type FlatlineState = { b: BucketCounts; first: number; last: number }

/**
 * Fewer than N events in the window ending at the watermark, for a group seen before (a service
 * that stopped auditing). Judged as event time moves on, which other groups' events drive: a
 * stream where nothing at all arrives has no time moving (README, "Windows and time").
 */
export function flatlineLogic(rule: { window: number; fewerThan: number }): KindLogic<FlatlineState> {
  const { window, fewerThan } = rule
  const bucketMs = bucketMsFor(window)
  const judge = (state: FlatlineState, atMs: number): Verdict => {
    const windowStart = Math.floor(atMs / bucketMs) * bucketMs + bucketMs - window
    const count = countBetween(state.b, windowStart, Number.POSITIVE_INFINITY)
    const figures = { count, fewer_than: fewerThan, window_ms: window, last_event_at: state.last }
    if (count >= fewerThan) return { holds: false, figures }
    // A group seen for less than a window has not had the chance to fill one.
    if (state.first > windowStart) return undefined
    return {
      holds: true,
      identity: [windowStart],
      windowStartMs: windowStart,
      windowEndMs: windowStart + window,
      figures,
      events: [],
    }
  }
  return {
    windowed: true,
    resolvable: true,
    checksIdleGroups: true,
    initial: () => ({ b: {}, first: Number.POSITIVE_INFINITY, last: Number.NEGATIVE_INFINITY }),
    onEvent(state, { timeMs }) {
      addToBucket(state.b, timeMs, bucketMs)
      state.first = Math.min(state.first, timeMs)
      state.last = Math.max(state.last, timeMs)
      dropBucketsBefore(state.b, state.last - window - bucketMs, bucketMs)
      const verdict = judge(state, state.last)
      return verdict?.holds === false ? verdict : undefined
    },
    onTime(state, watermarkMs) {
      dropBucketsBefore(state.b, watermarkMs - window - bucketMs, bucketMs)
      return judge(state, watermarkMs)
    },
    // A silent group is what the rule is about: it is kept until the memory bound pushes it out.
    isSpent: () => false,
  }
}
