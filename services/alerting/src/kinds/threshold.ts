import { maxTriggeringEventIds } from '../alerts/alertNotice.js'
import {
  digestsBeside,
  insertSorted,
  lastOf,
  triggeringEvents,
  type KindLogic,
  type Verdict,
} from './ruleKind.js'

/**
 * The `atLeast` most recent event times of a group, ascending, with their event ids and (`d`, in
 * the same order) content digests. An alert names the last maxTriggeringEventIds only, and an
 * entry never comes back within reach once out of it (entries are inserted after it or dropped
 * before it): digests are computed for, and kept for, those within reach; null for the others, so
 * a group of 10,000 keeps 100 digests. `d` is missing in state written before digests were kept.
 */
export type ThresholdState = { t: number[]; ids: string[]; d?: (string | null)[] }

/**
 * At least N events within a sliding window. Only the N most recent events matter: N events fit
 * in a window exactly when the newest and the N-th newest are less than a window apart, so memory
 * per group is N times, whatever the rate.
 */
export function thresholdLogic(rule: { window: number; atLeast: number }): KindLogic<ThresholdState> {
  const { window, atLeast } = rule
  const verdictAt = (state: ThresholdState): Verdict => {
    const oldest = state.t[0]
    const newest = state.t.at(-1)
    if (state.t.length < atLeast || oldest === undefined || newest === undefined) return undefined
    if (newest - oldest >= window) return undefined
    return {
      holds: true,
      identity: [oldest],
      windowStartMs: oldest,
      windowEndMs: oldest + window,
      figures: { count: state.t.length, at_least: atLeast, window_ms: window },
      events: triggeringEvents(
        lastOf(state.ids, maxTriggeringEventIds),
        state.d?.length === state.ids.length ? lastOf(state.d, maxTriggeringEventIds) : undefined,
      ),
    }
  }
  return {
    windowed: true,
    resolvable: true,
    checksIdleGroups: false,
    initial: () => ({ t: [], ids: [], d: [] }),
    onEvent(state, { timeMs, eventId, digest }) {
      if (state.t.length >= atLeast && timeMs <= (state.t[0] ?? 0)) return undefined
      const digests = digestsBeside(state.ids, state.d)
      const index = insertSorted(state.t, timeMs)
      state.ids.splice(index, 0, eventId)
      const reachable = state.ids.length - maxTriggeringEventIds
      digests.splice(index, 0, index >= reachable ? digest() : null)
      // Inserted within reach, it pushed the entry before it out of reach for good.
      if (index >= reachable && reachable > 0) digests[reachable - 1] = null
      state.d = digests
      if (state.t.length > atLeast) {
        state.t.shift()
        state.ids.shift()
        digests.shift()
      }
      return verdictAt(state)
    },
    onTime(state, watermarkMs) {
      // In the window ending at the watermark, fewer than N remain once the N-th newest left it.
      const oldest = state.t[0]
      if (state.t.length < atLeast || oldest === undefined || oldest <= watermarkMs - window) {
        const inWindow = state.t.filter((time) => time > watermarkMs - window).length
        return { holds: false, figures: { count: inWindow, at_least: atLeast, window_ms: window } }
      }
      return undefined
    },
    isSpent: (state, watermarkMs) => (state.t.at(-1) ?? Number.NEGATIVE_INFINITY) <= watermarkMs - window,
  }
}
