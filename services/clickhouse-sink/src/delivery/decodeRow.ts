import { eventPartition, eventRow } from '@audit-pipeline/clickhouse-schema'
import { CodecError } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import type { KafkaRecord } from '@audit-pipeline/kafka'

/** What a record becomes once decoded: its event id, its row as a JSONEachRow line, and the table partition (month) it lands in. */
export type DecodedRow = { readonly eventId: string; readonly line: string; readonly partition: number }

/**
 * Decodes a record's value and makes its row, serialised as it is read: a batch then holds one
 * string per row rather than the row's object tree, and the insert only joins the lines. Throws
 * CodecError for a value that is no event (a tombstone, bytes in no schema); the caller isolates
 * the record, so whatever this throws becomes its dead letter.
 */
export async function decodeRow(
  record: KafkaRecord,
  decode: (value: Buffer) => Promise<AuditEvent>,
): Promise<DecodedRow> {
  if (record.value === null) {
    throw new CodecError('EVENT_UNDECODABLE', 'a null value (tombstone) holds no event', false)
  }
  const event = await decode(record.value)
  const row = eventRow(event, { topic: record.topic, partition: record.partition, offset: record.offset })
  return { eventId: event.event_id, line: `${JSON.stringify(row)}\n`, partition: eventPartition(event) }
}
