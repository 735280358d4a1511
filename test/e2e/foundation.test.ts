import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, type EachMessagePayload } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { uniqueName, waitFor } from '@audit-pipeline/testing'
import { openTestStorage } from '../support/testStorage.js'

/**
 * The foundation's promise, through real parts only: an Avro schema registered in the schema
 * registry, a message encoded with it and produced to Kafka, consumed by a consumer group,
 * decoded, stored in ClickHouse and read back with a server-side query parameter.
 */
const stack = inject('stack')
const schema = readFileSync(new URL('../fixtures/ticketChanged.avsc', import.meta.url), 'utf8')

type TicketChanged = {
  event_id: string
  /** Epoch milliseconds (Avro timestamp-millis). */
  occurred_at: number
  actor_id: string
  object_id: string
  field: string
  old_value: string | null
  new_value: string | null
  attributes: Record<string, string>
}

const kafka = new Kafka({
  clientId: 'foundation-e2e',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl })
let testStorage: Awaited<ReturnType<typeof openTestStorage>>

beforeAll(async () => {
  testStorage = await openTestStorage()
})
afterAll(async () => {
  await testStorage?.close()
})

describe('foundation end to end', () => {
  it('carries an Avro event from the registry through Kafka into ClickHouse, field for field', async () => {
    const topic = uniqueName('e2e_ticket_changed')
    const subject = `${topic}-value`
    const groupId = uniqueName('e2e_group')

    // 1. Register the schema and encode an event with it.
    const { id: schemaId } = await registry.register({ type: SchemaType.AVRO, schema }, { subject })
    expect(await registry.getLatestSchemaId(subject)).toBe(schemaId)
    const sent: TicketChanged = {
      event_id: randomUUID(),
      occurred_at: Date.parse('2024-03-16T13:12:00.123Z'),
      actor_id: 'stefany.ilds',
      object_id: '9548-B1',
      field: 'priority',
      old_value: 'Urgent',
      new_value: 'Normal',
      attributes: { comment: 'proposed solution added', channel: 'web' },
    }
    const encoded = await registry.encode(schemaId, sent)
    expect(encoded.readUInt8(0)).toBe(0) // Confluent wire format: magic byte, then the schema id
    expect(encoded.readInt32BE(1)).toBe(schemaId)

    // 2. Produce it with acks from every in-sync replica and idempotence.
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })
    await admin.disconnect()
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const [record] = await producer.send({
      topic,
      acks: -1,
      messages: [{ key: sent.object_id, value: encoded }],
    })
    await producer.disconnect()
    expect(record?.errorCode).toBe(0)

    // 3. Consume it with a consumer group and decode it.
    const received: TicketChanged[] = []
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }: EachMessagePayload) => {
        received.push((await registry.decode(message.value!)) as TicketChanged)
      },
    })
    const [decoded] = await waitFor(() => received.length > 0 && received, {
      timeoutMs: 30_000,
      description: 'the consumer group to receive the event',
    })
    await consumer.disconnect()
    expect(received).toHaveLength(1)
    expect(decoded).toEqual(sent)

    // 4. Store it in ClickHouse through the storage module.
    const { client } = testStorage.storage
    await client.command({
      query: `CREATE TABLE ticket_changes (
        event_id UUID,
        occurred_at DateTime64(3, 'UTC'),
        actor_id String,
        object_id String,
        field LowCardinality(String),
        old_value Nullable(String),
        new_value Nullable(String),
        attributes Map(String, String)
      ) ENGINE = MergeTree ORDER BY (object_id, occurred_at)`,
    })
    await client.insert({
      table: 'ticket_changes',
      format: 'JSONEachRow',
      values: [{ ...decoded!, occurred_at: new Date(decoded!.occurred_at).toISOString() }],
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    })

    // 5. Query it back by a server-side parameter and compare field by field.
    const rows = await client
      .query({
        query: `SELECT event_id, toUnixTimestamp64Milli(occurred_at) AS occurred_at_ms, actor_id, object_id,
                       field, old_value, new_value, attributes
                FROM ticket_changes WHERE object_id = {objectId:String} AND occurred_at >= {since:DateTime64(3)}`,
        query_params: { objectId: sent.object_id, since: new Date(sent.occurred_at) },
        format: 'JSONEachRow',
      })
      .then((result) => result.json<Record<string, unknown>>())
    expect(rows).toHaveLength(1)
    const row = rows[0]!
    expect(row['event_id']).toBe(sent.event_id)
    expect(Number(row['occurred_at_ms'])).toBe(sent.occurred_at)
    expect(row['actor_id']).toBe(sent.actor_id)
    expect(row['object_id']).toBe(sent.object_id)
    expect(row['field']).toBe(sent.field)
    expect(row['old_value']).toBe(sent.old_value)
    expect(row['new_value']).toBe(sent.new_value)
    expect(row['attributes']).toEqual(sent.attributes)

    // A parameter that matches nothing finds nothing: the filter really ran server-side.
    const none = await client
      .query({
        query: 'SELECT count() AS n FROM ticket_changes WHERE object_id = {objectId:String}',
        query_params: { objectId: "9548-B1' OR '1'='1" },
        format: 'JSONEachRow',
      })
      .then((result) => result.json<{ n: string | number }>())
    expect(Number(none[0]?.n)).toBe(0)
  })
})
