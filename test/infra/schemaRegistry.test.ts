import avro from 'avsc'
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { describe, expect, inject, it } from 'vitest'
import { uniqueName } from '@audit-pipeline/testing'

/**
 * What the pipeline needs from the schema registry (Apicurio's Confluent-compatible API), through
 * @kafkajs/confluent-schema-registry: Avro schemas under explicit subjects kept
 * BACKWARD_TRANSITIVE, Confluent wire framing, lookups by id, and evolution that accepts
 * compatible versions and rejects incompatible ones against every earlier version.
 *
 * The client checks the `compatibility` option against GET /config/{subject} before every
 * register: on a subject's first registration (404) it registers and then PUTs the option as the
 * subject's level; afterwards a different option fails in the client, before any request. So
 * every register here passes the subject's level, and a rejection must be the server's 409.
 * (Apicurio answers GET /config/{subject} for a subject without its own level with the global
 * one, where Confluent answers 404; a subject the client did not create would keep that level.)
 */
const stack = inject('stack')
const registryUrl = stack.schemaRegistryUrl.replace(/\/$/, '')
const registry = new SchemaRegistry({ host: registryUrl })
const transitive = COMPATIBILITY.BACKWARD_TRANSITIVE

type AvroRecord = {
  type: 'record'
  name: string
  namespace?: string
  fields: Array<{ name: string; type: avro.schema.AvroSchema; default?: unknown }>
}

const v1: AvroRecord = {
  type: 'record',
  name: 'AuditEvent',
  namespace: 'com.example.audit',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'action', type: 'string' },
    { name: 'ts', type: 'long' },
  ],
}
/** Adds an optional field with a default: readers of v2 can read v1 data. */
const v2: AvroRecord = {
  ...v1,
  fields: [...v1.fields, { name: 'actor', type: ['null', 'string'], default: null }],
}
const event = { id: 'evt-1', action: 'login', ts: 1_700_000_000_000 }

const avroSchema = (schema: AvroRecord) =>
  ({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }) as const

/** A new subject with v1 registered in it (the client sets BACKWARD_TRANSITIVE on it). */
async function subjectWithV1(): Promise<{ subject: string; id: number }> {
  const subject = `${uniqueName('infra_audit_event')}-value`
  const { id } = await registry.register(avroSchema(v1), { subject, compatibility: transitive })
  expect(id).toBeGreaterThan(0)
  return { subject, id }
}

/** GET on the Confluent-compatible API, as plain JSON. */
async function getJson(path: string): Promise<unknown> {
  const response = await fetch(`${registryUrl}${path}`, {
    headers: { Accept: 'application/vnd.schemaregistry.v1+json' },
  })
  expect(response.status, `GET ${path}`).toBe(200)
  return response.json()
}

async function sendJson(method: 'POST' | 'PUT', path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${registryUrl}${path}`, {
    method,
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify(body),
  })
  expect(response.status, `${method} ${path}`).toBe(200)
  return response.json()
}

const versions = (subject: string) => getJson(`/subjects/${encodeURIComponent(subject)}/versions`)

describe('schema registry', () => {
  // The client's `compatibility` option becomes the subject's level, read back over plain HTTP;
  // the global level is something else, so the read-back is the subject's own.
  it('registers an Avro record under an explicit subject as BACKWARD_TRANSITIVE', async () => {
    const { subject, id } = await subjectWithV1()

    expect(await registry.getLatestSchemaId(subject)).toBe(id)
    expect(await versions(subject)).toEqual([1])
    expect(await getJson(`/config/${encodeURIComponent(subject)}`)).toEqual({
      compatibilityLevel: 'BACKWARD_TRANSITIVE',
    })
    expect(await getJson('/config')).not.toEqual({ compatibilityLevel: 'BACKWARD_TRANSITIVE' })
  })

  // Confluent framing: magic byte 0, the schema id as a big-endian int32, then the plain Avro
  // body; a client that has never seen the schema resolves the id and decodes it.
  it('encodes with Confluent framing and decodes by schema id, also from a fresh client', async () => {
    const { subject, id } = await subjectWithV1()

    const encoded = await registry.encode(id, event)
    expect(encoded.readUInt8(0)).toBe(0)
    expect(encoded.readInt32BE(1)).toBe(id)
    expect(encoded.subarray(5)).toEqual(avro.Type.forSchema(v1).toBuffer(event))
    expect(await registry.decode(encoded)).toEqual(event)

    const fresh = new SchemaRegistry({ host: registryUrl })
    const schema = (await fresh.getSchema(id)) as { name?: string }
    expect(schema.name).toBe('com.example.audit.AuditEvent')
    expect(await fresh.decode(encoded)).toEqual(event)
    expect(await fresh.getLatestSchemaId(subject)).toBe(id)
  })

  // A compatible v2 becomes version 2 with an id of its own; data written with v1 still decodes,
  // and read with v2 it gets the new field's default.
  it('accepts a backward-compatible v2 under a new id, and v1 data still decodes', async () => {
    const { subject, id: id1 } = await subjectWithV1()
    const encodedV1 = await registry.encode(id1, event)

    const { id: id2 } = await registry.register(avroSchema(v2), { subject, compatibility: transitive })
    expect(id2).not.toBe(id1)
    expect(await versions(subject)).toEqual([1, 2])
    expect(await registry.getLatestSchemaId(subject)).toBe(id2)
    expect(await registry.getRegistryId(subject, 1)).toBe(id1)

    expect(await registry.decode(encodedV1)).toEqual(event)
    expect(await registry.decode(encodedV1, { [SchemaType.AVRO]: { readerSchema: v2 } })).toEqual({
      ...event,
      actor: null,
    })
    const encodedV2 = await registry.encode(id2, { ...event, actor: 'alice' })
    expect(encodedV2.readInt32BE(1)).toBe(id2)
    expect(await registry.decode(encodedV2)).toEqual({ ...event, actor: 'alice' })
  })

  // Changes that break readers of old data are refused by the server with 409 and add no
  // version; the same schemas are valid on their own (a new subject takes them).
  it.each([
    {
      change: 'a changed field type (action: string -> int)',
      schema: { ...v1, fields: v1.fields.map((f) => (f.name === 'action' ? { ...f, type: 'int' } : f)) },
    },
    {
      change: 'an added required field (no default)',
      schema: { ...v1, fields: [...v1.fields, { name: 'tenant', type: 'string' }] },
    },
  ])('rejects $change with a 409 through the client', async ({ schema }) => {
    const { subject, id } = await subjectWithV1()

    await expect(
      registry.register(avroSchema(schema), { subject, compatibility: transitive }),
    ).rejects.toMatchObject({ name: 'ResponseError', status: 409 })
    expect(await versions(subject)).toEqual([1])
    expect(await registry.getLatestSchemaId(subject)).toBe(id)

    const elsewhere = `${uniqueName('infra_audit_event')}-value`
    const accepted = await registry.register(avroSchema(schema), {
      subject: elsewhere,
      compatibility: transitive,
    })
    expect(accepted.id).toBeGreaterThan(0)
  })

  // BACKWARD_TRANSITIVE checks a new version against every version, not only the latest: v3 reads
  // v2 data but not v1 data, so it is refused; under plain BACKWARD the same v3 is accepted.
  it('checks compatibility transitively, against every earlier version', async () => {
    const subject = `${uniqueName('infra_transitive')}-value`
    const base: AvroRecord = { type: 'record', name: 'T', namespace: 'com.example.audit', fields: [] }
    const t1 = {
      ...base,
      fields: [
        { name: 'id', type: 'string' },
        { name: 'x', type: 'string' },
      ],
    }
    const t2 = { ...base, fields: [{ name: 'id', type: 'string' }] } // drops x: compatible
    const t3 = {
      ...base,
      fields: [
        { name: 'id', type: 'string' },
        { name: 'x', type: 'int', default: 0 },
      ],
    }
    await registry.register(avroSchema(t1), { subject, compatibility: transitive })
    await registry.register(avroSchema(t2), { subject, compatibility: transitive })

    const path = `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`
    expect(await sendJson('POST', path, { schema: JSON.stringify(t3) })).toEqual({ is_compatible: true })
    await expect(
      registry.register(avroSchema(t3), { subject, compatibility: transitive }),
    ).rejects.toMatchObject({
      name: 'ResponseError',
      status: 409,
    })
    expect(await versions(subject)).toEqual([1, 2])

    await sendJson('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: 'BACKWARD' })
    await registry.register(avroSchema(t3), { subject, compatibility: COMPATIBILITY.BACKWARD })
    expect(await versions(subject)).toEqual([1, 2, 3])
  })
})
