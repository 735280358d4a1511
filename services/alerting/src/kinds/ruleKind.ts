import type { TriggeringEvent } from '../alerts/alertNotice.js'

/**
 * What a rule kind says after seeing an event or time passing for one group:
 * - `holds`: the condition is met; `identity` names the occurrence (the alert id derives from it);
 * - `clears`: a condition that held no longer does (windowed kinds: the resolved notice);
 * - undefined: nothing to report.
 */
export type Verdict =
  | {
      holds: true
      identity: readonly (string | number)[]
      windowStartMs: number
      windowEndMs: number
      figures: Record<string, number | string>
      /** The events that made it, with their content digests. */
      events: readonly TriggeringEvent[]
    }
  | { holds: false; figures: Record<string, number | string> }
  | undefined

/** An event that passed a rule's filter, for one group. */
export type MatchInput = {
  timeMs: number
  eventId: string
  /**
   * The event's content digest (packages/integrity `contentDigest`), computed on the first call
   * and shared by every rule: a kind asks for it only for an event an alert names now, or one it
   * keeps in its state and an alert may name later (the event itself is not kept).
   */
  digest: () => string
  /** The rule expressions' variables for this event (event, changed, entity). */
  context: Record<string, unknown>
  /** The rule's `value` expression's result (new_value, cardinality). */
  value?: string
}

/**
 * One rule kind's logic over the state of one group. States are plain JSON values (they are
 * written to the changelog as they are) and are changed in place. Pure: time comes in as
 * arguments.
 */
export type KindLogic<S> = {
  /** Events older than the watermark cannot enter its windows: they are counted as late instead. */
  readonly windowed: boolean
  /** Its condition can clear (and so be resolved) as time passes. */
  readonly resolvable: boolean
  /** Every group must be looked at as time passes, not only firing ones (flatline). */
  readonly checksIdleGroups: boolean
  initial(): S
  onEvent(state: S, input: MatchInput): Verdict
  /** The watermark moved on: does the condition still hold (or, for flatline, hold now)? */
  onTime?(state: S, watermarkMs: number): Verdict
  /** Whether the state holds nothing still useful at this watermark. */
  isSpent(state: S, watermarkMs: number): boolean
}

/** Inserts into an ascending array at its place (out-of-order events arrive rarely and late by little). */
export function insertSorted(times: number[], time: number): number {
  let index = times.length
  while (index > 0 && (times[index - 1] ?? 0) > time) index--
  times.splice(index, 0, time)
  return index
}

export function lastOf<T>(items: readonly T[], count: number): T[] {
  return items.slice(Math.max(0, items.length - count))
}

/**
 * Event ids with the digests kept beside them (`digests[i]` is `ids[i]`'s), as an alert names
 * them. State written before digests were kept has none, or not as many: those are not known.
 */
export function triggeringEvents(
  ids: readonly string[],
  digests: readonly (string | null)[] | undefined,
): TriggeringEvent[] {
  const aligned = digests?.length === ids.length ? digests : undefined
  return ids.map((eventId, index) => ({ eventId, contentDigest: aligned?.[index] ?? null }))
}

/** The digests kept beside `ids`, or as many nulls when there are none (or not as many) yet. */
export function digestsBeside(
  ids: readonly string[],
  digests: (string | null)[] | undefined,
): (string | null)[] {
  return digests?.length === ids.length ? digests : ids.map(() => null)
}
