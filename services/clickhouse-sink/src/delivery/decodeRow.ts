import { eventPartition, eventRow } from '@audit-pipeline/clickhouse-schema'
import { CodecError } from '@audit-pipeline/codec'
import { reservedNamespaceOf, type AuditEvent, type ReservedNamespace } from '@audit-pipeline/event-model'
import type { KafkaRecord } from '@audit-pipeline/kafka'
import { identityOf, type EventIdentity } from '../integrity/eventIdentity.js'
import { eventRowLine } from './eventRowLine.js'
import { RecordRefusedError } from './recordRefused.js'
import { rowTargetOf, type RowTarget } from './rowTarget.js'

/**
 * What a record becomes once decoded: its event id, its row as a JSONCompactEachRow line (UTF-8
 * bytes: eventRowLine.ts), the table
 * partition (month) it lands in, its identity in the trail (content digest included), and the
 * table it goes to (the record's `audit-temporal-level` header: rowTarget.ts).
 */
export type DecodedRow = {
  readonly eventId: string
  readonly line: Buffer
  readonly partition: number
  readonly identity: EventIdentity
  readonly target: RowTarget
}

/**
 * Decodes a record's value and makes its row, serialised as it is read: a batch then holds one
 * Buffer per row rather than the row's object tree or a string on the V8 heap (rows wait there
 * for a second or more, long enough to be copied by every young-generation collection and
 * promoted), and the insert only concatenates the lines. Throws
 * CodecError for a value that is no event (a tombstone, bytes in no schema), and
 * RecordRefusedError for an event in the wrong namespace for its topic (`topicNamespace`: an alert
 * only from an alerts topic, an access record only from an access topic, neither from anywhere
 * else); the caller isolates the record, so whatever this throws becomes its dead letter.
 */
export async function decodeRow(
  record: KafkaRecord,
  decode: (value: Buffer) => Promise<AuditEvent>,
  topicNamespace: ReservedNamespace | undefined,
): Promise<DecodedRow> {
  if (record.value === null) {
    throw new CodecError('EVENT_UNDECODABLE', 'a null value (tombstone) holds no event', false)
  }
  const event = await decode(record.value)
  const claimed = reservedNamespaceOf(event)
  if (claimed !== topicNamespace) {
    throw new RecordRefusedError(
      'RESERVED_NAMESPACE',
      topicNamespace === undefined
        ? `event ${event.event_id} claims the ${claimed} namespace (object type '${event.object.type}', action '${event.action.name}'), which only the pipeline's own services write, on their own topics; ${record.topic} is not one of them (SINK_ALERT_TOPICS, SINK_ACCESS_TOPICS)`
        : `${record.topic} holds only ${topicNamespace} events (SINK_ALERT_TOPICS, SINK_ACCESS_TOPICS); event ${event.event_id} (object type '${event.object.type}', action '${event.action.name}') is ${claimed === undefined ? 'none' : `an ${claimed} event`}`,
    )
  }
  const row = eventRow(event, { topic: record.topic, partition: record.partition, offset: record.offset })
  return {
    eventId: event.event_id,
    line: Buffer.from(eventRowLine(row)),
    partition: eventPartition(event),
    identity: identityOf(event),
    target: rowTargetOf(record.headers, topicNamespace),
  }
}
