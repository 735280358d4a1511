import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { EventInvalidError, redactedHashPrefix, type AuditEvent } from '@audit-pipeline/event-model'
import { KeyStoreError, openEvents, openLocalKeyStore, type KeyStore } from '@audit-pipeline/field-encryption'
import { createTestTopic } from '@audit-pipeline/testing'
import { createAuditProducer, type AuditProducerOptions } from './auditProducer.js'
import { ProducerError } from './producerError.js'
import { endOffsetTotal as topicRecords, readEvents } from './testSupport/topicContents.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'producer-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl })
const examples = ticketExampleLines().map((line) => JSON.parse(line) as unknown)

const newTopic = (partitions = 3) => createTestTopic(kafka, 'producer_test', partitions)

async function openProducer(topic: string, overrides: Partial<AuditProducerOptions> = {}) {
  const producer = await createAuditProducer({
    kafka,
    registry,
    topic,
    defaults: { tenant: 'witify', source: { service: 'helpdesk-api' } },
    ...overrides,
  })
  onTestFinished(() => producer.close())
  return producer
}

/** Every event on the topic, decoded, with the partition it landed on, in partition order. */
async function readAll(topic: string, count: number): Promise<{ partition: number; event: AuditEvent }[]> {
  const read = await readEvents(kafka, registry, topic, count)
  for (const { event, eventIdHeader } of read) expect(eventIdHeader).toBe(event.event_id)
  return read.map(({ partition, event }) => ({ partition, event }))
}

const endOffsetTotal = (topic: string) => topicRecords(kafka, topic)

describe('audit producer', () => {
  it("sends events that come back from Kafka identical, one object's history in order on one partition", async () => {
    const topic = await newTopic()
    const audit = await openProducer(topic)
    const actor = { id: 'u-1001', display_name: 'Alex Mercer', roles: ['agent'] }
    const ticket = { type: 'ticket', id: '9548-B1', label: 'Export to PDF fails' }
    const v1 = { title: 'Export to PDF fails', priority: 'Normal', status: 'open' }
    const v2 = { ...v1, priority: 'Urgent' }
    const v3 = { ...v2, priority: 'Normal', solution: 'Use Save as PDF' }

    const sent = [
      await audit.created(ticket, v1, { actor }),
      await audit.updated(ticket, v1, v2, { actor: { id: 'u-1002' } }),
      await audit.updated(ticket, v2, v3, { actor: { id: 'u-1003' } }),
      await audit.operation('ticket.close', ticket, {}, { actor }),
      await audit.deleted(ticket, v3, { actor }),
      ...(await audit.batch([
        audit.build.created({ type: 'ticket', id: 'bulk-1' }, { priority: 'Low' }, { actor }),
        audit.build.created({ type: 'ticket', id: 'bulk-2' }, { priority: 'Low' }, { actor }),
      ])),
    ].filter((e): e is AuditEvent => e !== undefined)
    expect(sent).toHaveLength(7)

    const received = await readAll(topic, sent.length)
    const byId = new Map(received.map((r) => [r.event.event_id, r]))
    for (const event of sent) expect(byId.get(event.event_id)?.event).toEqual(event)
    const ticketHistory = received.filter((r) => r.event.object.id === '9548-B1')
    expect(new Set(ticketHistory.map((r) => r.partition)).size).toBe(1)
    expect(ticketHistory.map((r) => r.event.action.name)).toEqual([
      'ticket.create',
      'ticket.update',
      'ticket.update',
      'ticket.close',
      'ticket.delete',
    ])
  })

  it('sends events in the documented JSON form', async () => {
    const topic = await newTopic(1)
    const audit = await openProducer(topic)
    const sent = await Promise.all(examples.map((example) => audit.generic(example)))
    const received = await readAll(topic, 3)
    expect(received.map((r) => r.event)).toEqual(sent)
    expect(sent[2]?.changes.map((c) => c.path)).toEqual(['priority', 'solution'])
  })

  it('rejects an invalid event before anything reaches Kafka, naming the field', async () => {
    const topic = await newTopic(1)
    const audit = await openProducer(topic)
    const rejected = audit.created(
      { type: 'ticket', id: 'x' },
      { a: 1 },
      { actor: { id: 'u' }, category: 'gossip' },
    )
    await expect(rejected).rejects.toThrow(EventInvalidError)
    await expect(rejected).rejects.toThrow("category: unknown category 'gossip'")
    await audit.flush()
    expect(await endOffsetTotal(topic)).toBe(0)
  })

  it('hides sensitive fields before they leave the process', async () => {
    const topic = await newTopic(1)
    const audit = await openProducer(topic, { redaction: { mode: 'hash', hmacKey: 'test-key' } })
    const event = await audit.updated(
      { type: 'customer', id: 'c-9' },
      { name: 'Ada', card: { number: '4111111111111111' } },
      { name: 'Ada L.', card: { number: '5500000000000004' } },
      { actor: { id: 'u-1' }, sensitiveFields: ['card'] },
    )
    const [stored] = await readAll(topic, 1)
    expect(stored?.event).toEqual(event)
    const text = JSON.stringify(stored?.event)
    expect(text).not.toContain('4111111111111111')
    expect(text).not.toContain('5500000000000004')
    // Sensitive fields are compared whole, so the change is at 'card', its values hashed.
    expect(stored?.event.changes.find((c) => c.path === 'card')?.new_value).toContain(redactedHashPrefix)
    expect(stored?.event.changes.find((c) => c.path === 'name')?.new_value).toBe('"Ada L."')
  })

  it("seals sensitive fields at the source under the subject's key, readable again with the key store", async () => {
    const topic = await newTopic(1)
    const keys = openLocalKeyStore({
      directory: mkdtempSync(join(tmpdir(), 'producer-keys-')),
      keyEncryptionKey: randomBytes(32),
    })
    const audit = await openProducer(topic, { encryption: { keys } })
    const event = await audit.updated(
      { type: 'customer', id: 'c-9' },
      { name: 'Ada', card: { number: '4111111111111111' } },
      { name: 'Ada L.', card: { number: '5500000000000004' } },
      { actor: { id: 'u-1' }, sensitiveFields: ['card'] },
    )
    const [stored] = await readAll(topic, 1)
    expect(stored?.event).toEqual(event)
    const text = JSON.stringify(stored?.event)
    expect(text).not.toContain('4111111111111111')
    expect(text).not.toContain('5500000000000004')
    expect(stored?.event.changes.find((c) => c.path === 'card')?.new_value).toMatch(/^"enc:v1:/)
    const [opened] = await openEvents([stored!.event], keys)
    expect(opened?.changes.find((c) => c.path === 'card')?.new_value).toBe('{"number":"5500000000000004"}')
  })

  it('rejects a send whose keys the store cannot give, and sends nothing of it', async () => {
    const topic = await newTopic(1)
    const broken: KeyStore = {
      dataKeyFor: () => Promise.reject(new KeyStoreError('cannot read /keys/subjects/ab: EACCES')),
      indexKeyFor: () => Promise.resolve(Buffer.alloc(32)),
      keyById: () => Promise.resolve({ state: 'unknown' }),
      erase: () => Promise.reject(new KeyStoreError('read-only')),
    }
    const audit = await openProducer(topic, { encryption: { keys: broken } })
    const rejected = audit.created(
      { type: 'customer', id: 'c-1' },
      { email: 'ada@example.com' },
      { actor: { id: 'u-1' }, sensitiveFields: ['email'] },
    )
    await expect(rejected).rejects.toThrow(ProducerError)
    await expect(rejected).rejects.toMatchObject({ code: 'KEY_STORE_UNAVAILABLE', retriable: false })
    // An event with nothing sensitive needs no key, and goes.
    await audit.created({ type: 'customer', id: 'c-2' }, { tier: 'gold' }, { actor: { id: 'u-1' } })
    await audit.flush()
    expect(await endOffsetTotal(topic)).toBe(1)
  })

  it('refuses redaction and encryption together before connecting', async () => {
    const keys = openLocalKeyStore({
      directory: mkdtempSync(join(tmpdir(), 'producer-keys-')),
      keyEncryptionKey: randomBytes(32),
    })
    await expect(
      createAuditProducer({
        kafka,
        registry,
        defaults: { tenant: 't', source: { service: 's' } },
        redaction: { mode: 'drop' },
        encryption: { keys },
      }),
    ).rejects.toThrow('give either redaction (sensitive values dropped) or encryption')
  })

  it('says clearly when the broker or the registry cannot be reached', async () => {
    const nowhere = new Kafka({
      clientId: 'producer-test',
      brokers: ['127.0.0.1:1'],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 500,
    })
    const noBroker = createAuditProducer({
      kafka: nowhere,
      registry,
      endpoints: { brokers: ['127.0.0.1:1'] },
      defaults: { tenant: 't', source: { service: 's' } },
    })
    await expect(noBroker).rejects.toThrow(ProducerError)
    await expect(noBroker).rejects.toThrow(/^cannot connect to Kafka at 127\.0\.0\.1:1: /)

    const noRegistry = createAuditProducer({
      kafka,
      registry: new SchemaRegistry({ host: 'http://127.0.0.1:1', retry: { retries: 0 } }),
      endpoints: { registryUrl: 'http://127.0.0.1:1' },
      defaults: { tenant: 't', source: { service: 's' } },
    })
    await expect(noRegistry).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE' })
    await expect(noRegistry).rejects.toThrow(/^cannot use the schema registry at http:\/\/127\.0\.0\.1:1: /)
  })
})
