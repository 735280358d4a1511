import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, type Message } from 'kafkajs'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { collectTopics, uniqueName, waitFor } from '@audit-pipeline/testing'
import { buildPackage, startServiceProcess, type ServiceProcess } from '../support/serviceProcess.js'

const stack = inject('stack')
const kafka = new Kafka({ clientId: 'crash-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })
const eventCount = 50_000
const kills = 5

beforeAll(() => buildPackage('@audit-pipeline/normalizer'), 180_000)

/**
 * The delivery guarantee, shown: 50,000 events flow through the normalizer process while it is
 * killed with SIGKILL five times at random points of its progress and restarted. Afterwards every
 * event is in each topic its route names, no event is where it should not be, and every duplicate
 * is a byte-identical copy of the first (same key, value and route), counted.
 */
describe('normalizer under SIGKILL', () => {
  it('loses no event and writes duplicates only as exact copies', { timeout: 600_000 }, async () => {
    const [input, stored, forwarded, deadLetters] = [
      'crash_in',
      'crash_stored',
      'crash_fwd',
      'crash_dlq',
    ].map(uniqueName) as [string, string, string, string]
    const admin = kafka.admin()
    await admin.connect()
    onTestFinished(() => admin.disconnect())
    await admin.createTopics({
      topics: [input, stored, forwarded, deadLetters].map((topic) => ({ topic, numPartitions: 6 })),
      waitForLeaders: true,
    })

    const dir = mkdtempSync(join(tmpdir(), 'normalizer-crash-'))
    const routesFile = join(dir, 'routes.yaml')
    writeFileSync(
      routesFile,
      `routes:
  - name: drop-debug
    match: { category: debug }
    drop: { reason: not kept }
  - name: security
    match: { category: security }
    to: [${stored}, ${forwarded}]
default:
  to: [${stored}]
`,
    )
    const groupId = uniqueName('crash-normalizer')
    const env = {
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      NORMALIZER_INPUT_TOPICS: input,
      NORMALIZER_GROUP_ID: groupId,
      NORMALIZER_ROUTES_FILE: routesFile,
      NORMALIZER_DEAD_LETTER_TOPIC: deadLetters,
      // The broker's minimum: a killed instance's partitions are reassigned after 6 s, not 30.
      NORMALIZER_SESSION_TIMEOUT_MS: '6000',
      NORMALIZER_SHUTDOWN_DEADLINE_MS: '5000',
      OPS_PORT: '0',
      LOG_LEVEL: 'info',
    }

    // The events: Avro mostly, some JSON; every tenth a security event (two topics), every
    // fiftieth a debug event (dropped). Expected destinations follow from the category.
    const codec = await createAuditEventCodec({
      registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }),
    })
    const templateLine = JSON.parse(ticketExampleLines()[1]!) as Record<string, unknown> & { object: object }
    const template = parseEventJson(templateLine)
    const expectedIn = new Map<string, Set<string>>([
      [stored, new Set()],
      [forwarded, new Set()],
    ])
    const messages: Message[] = []
    for (let i = 0; i < eventCount; i++) {
      const category = i % 50 === 7 ? 'debug' : i % 10 === 0 ? 'security' : 'business'
      const event: AuditEvent = {
        ...template,
        event_id: randomUUID(),
        category,
        recorded_at: template.occurred_at + i,
        object: { ...template.object, id: `T-${i % 997}` },
      }
      if (category !== 'debug') expectedIn.get(stored)!.add(event.event_id)
      if (category === 'security') expectedIn.get(forwarded)!.add(event.event_id)
      const value =
        i % 10 === 3
          ? Buffer.from(
              JSON.stringify({
                ...templateLine,
                event_id: event.event_id,
                category,
                recorded_at: new Date(event.recorded_at).toISOString(),
                object: { ...templateLine.object, id: event.object.id },
              }),
            )
          : codec.encode(event)
      messages.push({ key: event.object.id, value })
    }

    const collector = await collectTopics(kafka, [stored, forwarded, deadLetters])
    onTestFinished(() => collector.stop())
    const storedCount = () => collector.messages.filter((m) => m.topic === stored).length

    // Produce in the background while the normalizer runs and dies.
    const producer = kafka.producer()
    await producer.connect()
    onTestFinished(() => producer.disconnect())
    const producing = (async () => {
      for (let start = 0; start < messages.length; start += 2_000) {
        await producer.send({ topic: input, acks: -1, messages: messages.slice(start, start + 2_000) })
      }
    })()

    let normalizer: ServiceProcess = startServiceProcess('services/normalizer/bin/audit-normalizer.js', env)
    await normalizer.waitForLog('ready')
    // Kill points: random progress levels, spread over the run, at least 2,000 events apart.
    const expectedStored = expectedIn.get(stored)!.size
    const killAt = Array.from({ length: kills }, (_, k) =>
      Math.floor(((k + 0.2 + Math.random() * 0.6) / (kills + 1)) * expectedStored),
    )
    const killedAt: number[] = []
    for (const threshold of killAt) {
      await waitFor(() => storedCount() >= threshold, {
        timeoutMs: 120_000,
        intervalMs: 5,
        description: `${threshold} events stored before kill ${killedAt.length + 1}`,
      })
      normalizer.child.kill('SIGKILL')
      expect(await normalizer.exited).toBe('SIGKILL')
      killedAt.push(storedCount())
      normalizer = startServiceProcess('services/normalizer/bin/audit-normalizer.js', env)
      await normalizer.waitForLog('ready')
    }
    await producing

    // Everything arrives, each where its route says.
    const eventIds = new WeakMap<object, string>()
    const eventIdOf = async (message: (typeof collector.messages)[number]) => {
      let id = eventIds.get(message)
      if (id === undefined) eventIds.set(message, (id = (await codec.decode(message.value!)).event_id))
      return id
    }
    const distinctIn = async (topic: string) => {
      const ids = new Set<string>()
      for (const message of collector.messages) if (message.topic === topic) ids.add(await eventIdOf(message))
      return ids
    }
    await waitFor(
      async () => {
        for (const [topic, ids] of expectedIn) if ((await distinctIn(topic)).size < ids.size) return false
        return true
      },
      { timeoutMs: 180_000, intervalMs: 500, description: 'every event in every topic it was routed to' },
    )

    const report: Record<string, { expected: number; distinct: number; duplicates: number }> = {}
    for (const [topic, ids] of expectedIn) {
      const copies = new Map<string, { key: string; value: string; route: string }>()
      let duplicates = 0
      for (const message of collector.messages.filter((m) => m.topic === topic)) {
        const id = await eventIdOf(message)
        const copy = {
          key: message.key!.toString('base64'),
          value: message.value!.toString('base64'),
          route: message.headers!['audit-route']!.toString(),
        }
        const first = copies.get(id)
        if (first) {
          duplicates++
          expect(copy, `duplicate of ${id} in ${topic} is an exact copy`).toEqual(first)
        } else copies.set(id, copy)
      }
      expect(
        [...copies.keys()].filter((id) => !ids.has(id)),
        `events in ${topic} that were not routed there`,
      ).toEqual([])
      expect(
        [...ids].filter((id) => !copies.has(id)),
        `events missing from ${topic}`,
      ).toEqual([])
      report[topic === stored ? 'stored' : 'forwarded'] = {
        expected: ids.size,
        distinct: copies.size,
        duplicates,
      }
    }
    expect(collector.messages.filter((m) => m.topic === deadLetters)).toEqual([])

    // A clean stop finishes, commits everything and exits 0.
    normalizer.child.kill('SIGTERM')
    expect(await normalizer.exited).toBe(0)
    expect(normalizer.logs.some((line) => line.msg === 'normalizer stopped')).toBe(true)
    const ends = await admin.fetchTopicOffsets(input)
    const [committed] = await admin.fetchOffsets({ groupId, topics: [input] })
    expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(
      ends.map((e) => [e.partition, e.high]).sort(),
    )
    console.log(
      `[normalizer crash test] ${eventCount} events, SIGKILL at stored counts ${killedAt.join(', ')}: ${JSON.stringify(report)}`,
    )
  })
})
