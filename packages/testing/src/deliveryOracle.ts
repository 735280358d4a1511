/** One event a producer had acknowledged (acks=all): its id, its ordering key and its place in that key's order. */
export type AcknowledgedEvent = { readonly eventId: string; readonly key: string; readonly sequence: number }

/** What a stage holds (the ClickHouse view, a receiver's deliveries), in the order it holds it. */
export type ObservedEvent = { readonly eventId: string }

/** What an oracle found for one stage, against what was acknowledged. */
export type DeliveryReport = {
  readonly acknowledged: number
  readonly observed: number
  /** Acknowledged and not observed. */
  readonly lost: number
  /** Observed copies beyond the first, per id, summed. */
  readonly duplicated: number
  /** Observed ids nobody acknowledged (a send that failed as far as the producer knew may still land). */
  readonly unexpected: number
  /** Per key, adjacent pairs observed out of their acknowledged order, summed over keys. */
  readonly reordered: number
  /** A few lost ids, to look up. */
  readonly lostSample: readonly string[]
}

/**
 * Compares what producers had acknowledged with what a stage of the pipeline holds: the
 * reliability numbers a fault drill reports (lost, duplicated, unexpected, reordered per key).
 * Pure: the drill collects both sides.
 */
export function compareDelivery(
  acknowledged: readonly AcknowledgedEvent[],
  observed: readonly ObservedEvent[],
): DeliveryReport {
  const byId = new Map<string, AcknowledgedEvent>()
  for (const event of acknowledged) byId.set(event.eventId, event)
  const seen = new Map<string, number>()
  let unexpected = 0
  /** The last sequence seen per key, in observed order, counting each id's first copy only. */
  const lastSequence = new Map<string, number>()
  let reordered = 0
  for (const { eventId } of observed) {
    const copies = (seen.get(eventId) ?? 0) + 1
    seen.set(eventId, copies)
    const event = byId.get(eventId)
    if (!event) {
      if (copies === 1) unexpected++
      continue
    }
    if (copies > 1) continue
    const last = lastSequence.get(event.key)
    if (last !== undefined && event.sequence < last) reordered++
    lastSequence.set(event.key, Math.max(last ?? event.sequence, event.sequence))
  }
  const lostIds = acknowledged.filter((event) => !seen.has(event.eventId)).map((event) => event.eventId)
  let duplicated = 0
  for (const copies of seen.values()) duplicated += copies - 1
  return {
    acknowledged: acknowledged.length,
    observed: observed.length,
    lost: lostIds.length,
    duplicated,
    unexpected,
    reordered,
    lostSample: lostIds.slice(0, 5),
  }
}
