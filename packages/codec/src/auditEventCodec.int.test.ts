import avro from 'avsc'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, inject, it } from 'vitest'
import { EventInvalidError, parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { auditEventContract, currentSchema, type AvroSchema } from '@audit-pipeline/schemas'
import { uniqueName } from '@audit-pipeline/testing'
import { CodecError } from './codecError.js'
import { createAuditEventCodec } from './auditEventCodec.js'
import { writeWireHeader } from './wireFormat.js'

const registry = new SchemaRegistry({ host: inject('stack').schemaRegistryUrl })
const example: AuditEvent = {
  ...parseEventJson(JSON.parse(ticketExampleLines()[2]!)),
  recorded_at: Date.parse('2024-03-16T13:12:01.000Z'),
}

/** The current schema as an older producer had it: without `sensitive_fields` and `correlation.request_id`. */
function olderSchema(): AvroSchema {
  const schema = structuredClone(currentSchema(auditEventContract)) as AvroSchema & {
    fields: { name: string; type: unknown }[]
  }
  schema.fields = schema.fields.filter((f) => f.name !== 'sensitive_fields')
  const correlation = schema.fields.find((f) => f.name === 'correlation')!.type as {
    fields: { name: string }[]
  }
  correlation.fields = correlation.fields.filter((f) => f.name !== 'request_id')
  return schema
}

describe('audit event codec', () => {
  it('round-trips an event through the registered schema in the Confluent wire format', async () => {
    const codec = await createAuditEventCodec({ registry })
    const message = codec.encode(example)
    expect(message.readUInt8(0)).toBe(0)
    expect(message.readInt32BE(1)).toBe(codec.schemaId)
    expect(await codec.decode(message)).toEqual(example)
  })

  it('reads events written with an older registered version in the current form', async () => {
    const codec = await createAuditEventCodec({ registry })
    const older = olderSchema()
    const { id: olderId } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(older) },
      { subject: uniqueName('older_audit_event') },
    )
    expect(olderId).not.toBe(codec.schemaId)
    const { sensitive_fields: _dropped, ...olderEvent } = {
      ...example,
      correlation: { trace_id: 'trace-1' },
    }
    const message = writeWireHeader(olderId, avro.Type.forSchema(older as avro.Schema).toBuffer(olderEvent))

    expect(await codec.decode(message)).toEqual({
      ...example,
      correlation: { trace_id: 'trace-1', request_id: null },
      sensitive_fields: [],
    })
  })

  it('names the field that does not fit the schema, and refuses oversized events', async () => {
    const codec = await createAuditEventCodec({ registry, maxEventBytes: 2_000 })
    const wrong = {
      ...example,
      severity: 'loud',
      actor: { ...example.actor, roles: [7] },
    } as unknown as AuditEvent
    expect(() => codec.encode(wrong)).toThrow(EventInvalidError)
    try {
      codec.encode(wrong)
    } catch (error) {
      expect((error as EventInvalidError).problems.map((p) => p.field)).toEqual(['actor.roles.0', 'severity'])
    }
    const huge = { ...example, after: JSON.stringify({ notes: 'x'.repeat(5_000) }) }
    expect(() => codec.encode(huge)).toThrow(/encoded event is \d+ bytes, over the 2000-byte limit/)
  })

  it('refuses an attribute named __proto__, which Avro readers would drop, and keeps other odd keys', async () => {
    const codec = await createAuditEventCodec({ registry })
    const proto = {
      ...example,
      attributes: JSON.parse('{"__proto__":"x","b":"y"}') as Record<string, string>,
    }
    expect(Object.keys(proto.attributes)).toEqual(['__proto__', 'b'])
    expect(() => codec.encode(proto)).toThrow(EventInvalidError)
    expect(() => codec.encode(proto)).toThrow(/attributes\.__proto__.*Avro readers drop it/)
    const odd = { ...example, attributes: { constructor: '1', toString: '2', '': '3', 'a.b': '4' } }
    expect((await codec.decode(codec.encode(odd))).attributes).toEqual(odd.attributes)
  })

  it('rejects messages that are not in the wire format or do not decode', async () => {
    const codec = await createAuditEventCodec({ registry })
    await expect(codec.decode(Buffer.from('{"json": true}'))).rejects.toThrow(CodecError)
    await expect(
      codec.decode(writeWireHeader(codec.schemaId, Buffer.from([0xff, 0xff]))),
    ).rejects.toMatchObject({
      code: 'EVENT_UNDECODABLE',
    })
  })
  it('tells a schema id the registry does not know (final) from a registry it cannot reach (retried)', async () => {
    const codec = await createAuditEventCodec({ registry })
    const body = codec.encode(example).subarray(5)
    await expect(codec.decode(writeWireHeader(2_000_000_000, body))).rejects.toMatchObject({
      code: 'SCHEMA_UNKNOWN',
      retriable: false,
    })

    // Writer schemas fetched from a registry on a closed port: the registry client reports the
    // refused connection as status 400, which must still read as "unavailable", not "unknown".
    const olderId = (
      await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(olderSchema()) },
        { subject: uniqueName('codec-unreachable') },
      )
    ).id
    const unreachable = new SchemaRegistry({ host: 'http://127.0.0.1:1', retry: { retries: 0 } })
    const halfDown = Object.assign(Object.create(registry) as SchemaRegistry, {
      getSchema: (id: number) => unreachable.getSchema(id),
    })
    const stranded = await createAuditEventCodec({ registry: halfDown })
    await expect(stranded.decode(writeWireHeader(olderId, body))).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
    })
  })
})
