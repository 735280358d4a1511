import type { KindLogic } from './ruleKind.js'

/** The values known for a group, least recently seen first. */
export type NewValueState = { v: string[] }

/**
 * The first time a value is seen for a group (a user's new IP address or country). Memory is
 * bounded per group (the least recently seen value is forgotten first) and in groups (the store's
 * bound). A group's first value is learned quietly unless the rule asks otherwise.
 */
export function newValueLogic(rule: {
  maxValuesPerGroup: number
  alertOnFirstValue: boolean
}): KindLogic<NewValueState> {
  return {
    windowed: false,
    resolvable: false,
    checksIdleGroups: false,
    initial: () => ({ v: [] }),
    onEvent(state, { timeMs, eventId, value, digest }) {
      if (value === undefined) return undefined
      const index = state.v.indexOf(value)
      if (index >= 0) {
        state.v.splice(index, 1)
        state.v.push(value)
        return undefined
      }
      const firstValue = state.v.length === 0
      state.v.push(value)
      if (state.v.length > rule.maxValuesPerGroup) state.v.shift()
      if (firstValue && !rule.alertOnFirstValue) return undefined
      return {
        holds: true,
        identity: [value, eventId],
        windowStartMs: timeMs,
        windowEndMs: timeMs,
        figures: { value, known_values: state.v.length - 1 },
        events: [{ eventId, contentDigest: digest() }],
      }
    },
    isSpent: () => false,
  }
}
