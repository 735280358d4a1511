import { maxTriggeringEventIds } from '../alerts/alertNotice.js'
import { insertSorted, lastOf, type KindLogic, type Verdict } from './ruleKind.js'

/** The `atLeast` most recent event times of a group, ascending, with their event ids. */
export type ThresholdState = { t: number[]; ids: string[] }

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
      eventIds: lastOf(state.ids, maxTriggeringEventIds),
    }
  }
  return {
    windowed: true,
    resolvable: true,
    checksIdleGroups: false,
    initial: () => ({ t: [], ids: [] }),
    onEvent(state, { timeMs, eventId }) {
      if (state.t.length >= atLeast && timeMs <= (state.t[0] ?? 0)) return undefined
      const index = insertSorted(state.t, timeMs)
      state.ids.splice(index, 0, eventId)
      if (state.t.length > atLeast) {
        state.t.shift()
        state.ids.shift()
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
