import type { KindLogic } from './ruleKind.js'

/** Every event that passes the filter (typically a condition on `entity`, the object's last state). */
export function matchLogic(): KindLogic<Record<string, never>> {
  return {
    windowed: false,
    resolvable: false,
    checksIdleGroups: false,
    initial: () => ({}),
    onEvent: (_state, { timeMs, eventId, digest }) => ({
      holds: true,
      identity: [eventId],
      windowStartMs: timeMs,
      windowEndMs: timeMs,
      figures: {},
      events: [{ eventId, contentDigest: digest() }],
    }),
    isSpent: () => true,
  }
}
