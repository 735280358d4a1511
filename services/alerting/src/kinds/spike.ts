import {
  addToBucket,
  bucketMsFor,
  countBetween,
  dropBucketsBefore,
  type BucketCounts,
} from './bucketCounts.js'
import { digestsBeside, lastOf, triggeringEvents, type KindLogic, type Verdict } from './ruleKind.js'

/**
 * Counts per bucket over the reference period and the window, when the group was first seen, the
 * recent event ids and (`d`, in the same order) their content digests (missing in state written
 * before digests were kept).
 */
export type SpikeState = {
  b: BucketCounts
  first: number
  last: number
  ids: string[]
  d?: (string | null)[]
}

const idsKept = 20

/**
 * The rate in the window against the rate in the reference period just before it. A group needs
 * a whole reference period of history first: otherwise every group would spike when it appears.
 * Counts are per tenth of the window, so the window's edges are exact to a tenth.
 */
export function spikeLogic(rule: {
  window: number
  reference: number
  factor: number
  minCount: number
}): KindLogic<SpikeState> {
  const { window, reference, factor, minCount } = rule
  const bucketMs = bucketMsFor(window)
  const judge = (state: SpikeState, atMs: number): Verdict => {
    const windowStart = Math.floor(atMs / bucketMs) * bucketMs + bucketMs - window
    const count = countBetween(state.b, windowStart, Number.POSITIVE_INFINITY)
    const referenceCount = countBetween(state.b, windowStart - reference, windowStart)
    const rate = count / window
    const referenceRate = referenceCount / reference
    const figures = {
      count,
      reference_count: referenceCount,
      rate_per_minute: round(rate * 60_000),
      reference_rate_per_minute: round(referenceRate * 60_000),
      factor,
    }
    const holds =
      state.first <= windowStart - reference && count >= minCount && rate >= factor * referenceRate
    return holds
      ? {
          holds: true,
          identity: [windowStart],
          windowStartMs: windowStart,
          windowEndMs: windowStart + window,
          figures,
          events: triggeringEvents(state.ids, state.d),
        }
      : { holds: false, figures }
  }
  return {
    windowed: true,
    resolvable: true,
    checksIdleGroups: false,
    initial: () => ({
      b: {},
      first: Number.POSITIVE_INFINITY,
      last: Number.NEGATIVE_INFINITY,
      ids: [],
      d: [],
    }),
    onEvent(state, { timeMs, eventId, digest }) {
      addToBucket(state.b, timeMs, bucketMs)
      state.first = Math.min(state.first, timeMs)
      state.last = Math.max(state.last, timeMs)
      // Every kept id may be named by the next alert: its digest is needed now or never.
      state.d = lastOf([...digestsBeside(state.ids, state.d), digest()], idsKept)
      state.ids = lastOf([...state.ids, eventId], idsKept)
      dropBucketsBefore(state.b, state.last - window - reference - bucketMs, bucketMs)
      const verdict = judge(state, state.last)
      return verdict?.holds ? verdict : undefined
    },
    onTime: (state, watermarkMs) => judge(state, Math.max(watermarkMs, state.last)),
    isSpent: (state, watermarkMs) => state.last <= watermarkMs - window - reference,
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}
