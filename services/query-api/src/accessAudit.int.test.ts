import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { createAuditProducer } from '@audit-pipeline/producer'
import { createLogger } from '@audit-pipeline/service-runtime'
import { uniqueName, waitFor } from '@audit-pipeline/testing'
import { createAccessAudit } from './accessAudit.js'
import { createQueryApiMetrics } from './metrics.js'
import { serveQueryApi } from './server.js'
import { apiKeys, queryApiFixture, testKeys } from './testSupport/queryApiFixture.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'query-api-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl })

describe('access auditing, over HTTP, with the real broker', () => {
  it('sends an audit event for each read and each refusal to the events topic', async () => {
    const topic = uniqueName('query_api_access')
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
    await admin.disconnect()
    const producer = await createAuditProducer({
      kafka,
      registry,
      topic,
      defaults: { source: { service: 'audit-query-api' }, category: 'security' },
    })
    onTestFinished(() => producer.close())

    const { storage } = await queryApiFixture()
    const server = await serveQueryApi({
      host: '127.0.0.1',
      port: 0,
      storage,
      keys: apiKeys,
      audit: createAccessAudit({ producer, platformTenant: 'audit-pipeline' }),
      log: createLogger({ service: 'query-api-test', level: 'silent' }),
      metrics: createQueryApiMetrics(new Registry()),
    })
    onTestFinished(() => server.close())

    const { id, secret } = testKeys.acmeAnalyst
    const allowed = await fetch(`${server.url}/v1/events?tenant=acme&actor=u-7&limit=2`, {
      headers: { authorization: `Bearer ${id}.${secret}` },
    })
    expect(allowed.status).toBe(200)
    const denied = await fetch(`${server.url}/v1/events?tenant=witify`, {
      headers: { authorization: `Bearer ${id}.${secret}` },
    })
    expect(denied.status).toBe(403)
    const anonymous = await fetch(`${server.url}/v1/events`)
    expect(anonymous.status).toBe(401)

    const codec = await createAuditEventCodec({ registry })
    const received: AuditEvent[] = []
    const consumer = kafka.consumer({ groupId: uniqueName('query_api_access_reader'), maxWaitTimeInMs: 100 })
    await consumer.connect()
    onTestFinished(() => consumer.disconnect())
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => void received.push(await codec.decode(message.value!)),
    })
    await waitFor(() => received.length >= 3, { timeoutMs: 30_000, description: '3 access events' })

    const summary = received.map((event) => ({
      tenant: event.tenant,
      actor: event.actor.id,
      action: event.action.name,
      object: event.object.type,
      outcome: event.outcome.status,
      category: event.category,
      endpoint: event.attributes['endpoint'],
      rows: event.attributes['row_count'],
    }))
    expect(summary).toEqual([
      {
        tenant: 'acme',
        actor: 'acme-analyst',
        action: 'audit_query.read',
        object: 'audit_query',
        outcome: 'success',
        category: 'security',
        endpoint: 'GET /v1/events',
        rows: '2',
      },
      {
        // Not witify's: a key that may not read a tenant does not write into its trail either.
        tenant: 'audit-pipeline',
        actor: 'acme-analyst',
        action: 'audit_query.denied',
        object: 'audit_query',
        outcome: 'denied',
        category: 'security',
        endpoint: 'GET /v1/events',
        rows: undefined,
      },
      {
        tenant: 'audit-pipeline',
        actor: 'anonymous',
        action: 'audit_query.denied',
        object: 'audit_query',
        outcome: 'denied',
        category: 'security',
        endpoint: 'GET /v1/events',
        rows: undefined,
      },
    ])
    expect(JSON.parse(received[0]!.attributes['filters']!)).toEqual({
      tenant: 'acme',
      actor: 'u-7',
      limit: 2,
      order: 'desc',
    })
    expect(received[1]!.outcome.reason).toBe("key acme-analyst may not read tenant 'witify'")
  })
})
