import avro from 'avsc'
import { wireHeaderBytes } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { auditEventContract, currentSchema } from '@audit-pipeline/schemas'
import { avroCanonicalDigest, directSchemaFingerprint } from './avroCanonicalDigest.js'

/**
 * The content digest (packages/integrity) of an event as the normalizer sent it: Avro in the
 * Confluent wire format, written with the current schema. It is the digest of the event as every
 * reader of the output decodes it — the very digest the ClickHouse sink stores, which is what lets
 * a repeat found here and one found there be judged alike. Written straight from the Avro bytes
 * when the schema is the one that reader knows; otherwise, and for the events it leaves to avsc,
 * decoded first.
 */
export function encodedEventDigest(
  schema: object = currentSchema(auditEventContract),
): (value: Uint8Array) => string {
  const type = avro.Type.forSchema(schema as avro.Schema)
  const decodedDigest = (body: Buffer) => contentDigest(type.fromBuffer(body) as AuditEvent)
  const body = (value: Uint8Array) =>
    Buffer.from(value.buffer, value.byteOffset + wireHeaderBytes, value.byteLength - wireHeaderBytes)
  if (!readsDirectly(type)) return (value) => decodedDigest(body(value))
  return (value) => {
    const bytes = body(value)
    return avroCanonicalDigest(bytes) ?? decodedDigest(bytes)
  }
}

/** Whether the digests of `schema`'s events are written straight from their Avro bytes. */
export function readsDirectly(type: avro.Type): boolean {
  return type.fingerprint('sha256').toString('hex') === directSchemaFingerprint
}
