import { CodecError, type AuditEventCodec } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { registryOutage, type KafkaRecord, type RuntimeContext } from '@audit-pipeline/kafka'

/**
 * The first step's task (run by runTask, so whatever it throws for one record becomes that
 * record's dead letter): the record's value decoded from Avro. A tombstone holds no event and is
 * undecodable. While the schema registry does not answer, the decode is retried through the
 * runtime, which holds the partition and logs and counts each retry: an outage never
 * dead-letters a record.
 */
export function decodeRecord(
  codec: Pick<AuditEventCodec, 'decode'>,
  context: Pick<RuntimeContext, 'whileUnavailable'>,
): (record: KafkaRecord) => Promise<AuditEvent> {
  return async (record) => {
    const { value } = record
    if (value === null) {
      throw new CodecError('EVENT_UNDECODABLE', 'a null value (tombstone) holds no event', false)
    }
    return context.whileUnavailable(registryOutage, () => codec.decode(value))
  }
}
