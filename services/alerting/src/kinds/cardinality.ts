import { maxTriggeringEventIds } from '../alerts/alertNotice.js'
import type { KindLogic, Verdict } from './ruleKind.js'

/**
 * Per distinct value: when it was last seen, by which event, and that event's content digest.
 * Digests are kept for the maxTriggeringEventIds most recently seen values only, the ones an
 * alert names (a value seen again is the newest, with its new event's digest); missing in state
 * written before digests were kept.
 */
export type CardinalityState = {
  v: Record<string, [number, string] | [number, string, string]>
  last: number
}

/**
 * Drops the digests of all but the maxTriggeringEventIds most recently seen values. Ties go as
 * `judge` orders them (insertion order), so the values it names keep theirs.
 */
function keepNewestDigests(state: CardinalityState): void {
  let kept = 0
  for (const entry of Object.values(state.v)) if (entry[2] !== undefined) kept++
  for (; kept > maxTriggeringEventIds; kept--) {
    let oldest: [string, number] | undefined
    for (const [value, entry] of Object.entries(state.v)) {
      if (entry[2] !== undefined && (oldest === undefined || entry[0] < oldest[1])) oldest = [value, entry[0]]
    }
    const entry = oldest && state.v[oldest[0]]
    if (!oldest || !entry) return
    state.v[oldest[0]] = [entry[0], entry[1]]
  }
}

/** More than N distinct values per group in a sliding window (records one user touched in an hour). */
export function cardinalityLogic(rule: {
  window: number
  moreThan: number
  maxDistinct: number
}): KindLogic<CardinalityState> {
  const { window, moreThan, maxDistinct } = rule
  const forgetBefore = (state: CardinalityState, cutoffMs: number) => {
    for (const [value, [seenMs]] of Object.entries(state.v)) if (seenMs <= cutoffMs) delete state.v[value]
  }
  const judge = (state: CardinalityState): Verdict => {
    const seen = Object.values(state.v)
    const figures = { distinct: seen.length, more_than: moreThan, window_ms: window }
    if (seen.length <= moreThan) return { holds: false, figures }
    seen.sort((a, b) => a[0] - b[0])
    const start = seen[0]?.[0] ?? state.last
    return {
      holds: true,
      identity: [start],
      windowStartMs: start,
      windowEndMs: start + window,
      figures,
      events: seen
        .slice(-maxTriggeringEventIds)
        .map(([, eventId, digest]) => ({ eventId, contentDigest: digest ?? null })),
    }
  }
  return {
    windowed: true,
    resolvable: true,
    checksIdleGroups: false,
    initial: () => ({ v: {}, last: Number.NEGATIVE_INFINITY }),
    onEvent(state, { timeMs, eventId, value, digest }) {
      if (value === undefined) return undefined
      const known = state.v[value]
      if (!known || known[0] <= timeMs) {
        state.v[value] = [timeMs, eventId, digest()]
        keepNewestDigests(state)
      }
      state.last = Math.max(state.last, timeMs)
      forgetBefore(state, state.last - window)
      const values = Object.entries(state.v)
      if (values.length > maxDistinct) {
        // Over the bound: the least recently seen values go first.
        values.sort((a, b) => a[1][0] - b[1][0])
        for (const [old] of values.slice(0, values.length - maxDistinct)) delete state.v[old]
      }
      const verdict = judge(state)
      return verdict?.holds ? verdict : undefined
    },
    onTime(state, watermarkMs) {
      forgetBefore(state, watermarkMs - window)
      return judge(state)
    },
    isSpent: (state, watermarkMs) => state.last <= watermarkMs - window,
  }
}
