import avro from 'avsc'
import { wireHeaderBytes } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { auditEventContract, currentSchema } from '@audit-pipeline/schemas'

/**
 * The content digest (packages/integrity) of an event as the normalizer sent it: Avro in the
 * Confluent wire format, written with the current schema. Decoded first, so the digest is of the
 * event as every reader of the output gets it — the very digest the ClickHouse sink stores, which
 * is what lets a repeat found here and one found there be judged alike.
 */
export function encodedEventDigest(
  schema: object = currentSchema(auditEventContract),
): (value: Uint8Array) => string {
  const type = avro.Type.forSchema(schema as avro.Schema)
  return (value) => {
    const body = Buffer.from(
      value.buffer,
      value.byteOffset + wireHeaderBytes,
      value.byteLength - wireHeaderBytes,
    )
    return contentDigest(type.fromBuffer(body) as AuditEvent)
  }
}
