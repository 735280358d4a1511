import { maxTriggeringEventIds } from '../alerts/alertNotice.js'
import type { KindLogic, Verdict } from './ruleKind.js'

/** Per distinct value: when it was last seen and by which event. */
export type CardinalityState = { v: Record<string, [number, string]>; last: number }

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
      eventIds: seen.slice(-maxTriggeringEventIds).map(([, eventId]) => eventId),
    }
  }
  return {
    windowed: true,
    resolvable: true,
    checksIdleGroups: false,
    initial: () => ({ v: {}, last: Number.NEGATIVE_INFINITY }),
    onEvent(state, { timeMs, eventId, value }) {
      if (value === undefined) return undefined
      const known = state.v[value]
      if (!known || known[0] <= timeMs) state.v[value] = [timeMs, eventId]
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
