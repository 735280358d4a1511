/** One encoded event on its way to Kafka: the partition key, the Avro (or JSON) value, its id. */
export type Outgoing = { key: string; value: Buffer; eventId: string }

/**
 * The lane an event's key goes through: a lane sends one batch at a time, so one key's events
 * reach Kafka in the order they were given, while the lanes' batches are in flight side by side.
 * FNV-1a over the key's UTF-16 code units: cheap, and the same key always gives the same lane.
 */
export function laneOf(key: string, lanes: number): number {
  if (lanes === 1) return 0
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % lanes
}

/** kafkajs's messages for a batch: the key, the value and the event id as a header. */
export function kafkaMessages(outgoing: readonly Outgoing[]) {
  return outgoing.map((message) => ({
    key: message.key,
    value: message.value,
    headers: { 'audit-event-id': message.eventId },
  }))
}
