import type { CompiledExpression } from '../rules/celExpression.js'
import type { KindLogic } from './ruleKind.js'

/** Event A's kept fields, as `first` in the `then` expression. */
export type CapturedEvent = Record<string, unknown>

/**
 * Pending A events of the group, oldest first: [time, event id, captured fields, content digest]
 * (no digest in state written before digests were kept).
 */
export type SequenceState = {
  p: ([number, string, CapturedEvent] | [number, string, CapturedEvent, string])[]
}

/** A group holds at most this many pending A events (the newest win). */
const maxPending = 10

/**
 * Event A, then event B for the same group within a time (a ticket assigned by a supervisor,
 * then deleted by its assignee within 24 hours). B is matched against the newest pending A first,
 * and consumes it: one alert per pair.
 */
export function sequenceLogic(rule: {
  within: number
  first: CompiledExpression
  then: CompiledExpression
  evaluate: (expression: CompiledExpression, context: Record<string, unknown>) => boolean
}): KindLogic<SequenceState> {
  const { within, first, then, evaluate } = rule
  return {
    windowed: false,
    resolvable: false,
    checksIdleGroups: false,
    initial: () => ({ p: [] }),
    onEvent(state, { timeMs, eventId, context, digest }) {
      state.p = state.p.filter(([startMs]) => timeMs - startMs <= within)
      for (let index = state.p.length - 1; index >= 0; index--) {
        const pending = state.p[index]
        if (!pending) continue
        const [startMs, firstId, captured, firstDigest] = pending
        if (timeMs < startMs || firstId === eventId) continue
        if (!evaluate(then, { ...context, first: captured })) continue
        state.p.splice(index, 1)
        return {
          holds: true,
          identity: [firstId, eventId],
          windowStartMs: startMs,
          windowEndMs: timeMs,
          figures: { elapsed_ms: timeMs - startMs, within_ms: within },
          events: [
            { eventId: firstId, contentDigest: firstDigest ?? null },
            { eventId, contentDigest: digest() },
          ],
        }
      }
      if (evaluate(first, { ...context, first: {} })) {
        // Kept until B comes: its digest is needed now or never.
        state.p.push([timeMs, eventId, capture(context), digest()])
        if (state.p.length > maxPending) state.p.shift()
      }
      return undefined
    },
    isSpent: (state, watermarkMs) => state.p.every(([startMs]) => watermarkMs - startMs > within),
  }
}

/** What `first` offers: the event without its before/after documents, and its changes by path. */
function capture(context: Record<string, unknown>): CapturedEvent {
  const { before: _before, after: _after, ...event } = context['event'] as Record<string, unknown>
  return { ...event, changed: context['changed'] }
}
