import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { loadConnectionSettings } from '@audit-pipeline/config'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { uniqueName, waitFor } from '@audit-pipeline/testing'
import type { Endpoints } from '../endpoints.js'
import { produceCommand } from './produce.js'

const stack = inject('stack')
const kafka = new Kafka({ clientId: 'cli-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })
const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl })
const endpoints: Endpoints = {
  settings: loadConnectionSettings({}),
  brokers: stack.kafkaBrokers,
  registryUrl: stack.schemaRegistryUrl,
  origin: 'environment',
}
const exampleLines = ticketExampleLines()

async function newTopic(): Promise<string> {
  const topic = uniqueName('cli_produce')
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })
  await admin.disconnect()
  return topic
}

async function readEvents(topic: string, count: number): Promise<AuditEvent[]> {
  const codec = await createAuditEventCodec({ registry })
  const events: AuditEvent[] = []
  const consumer = kafka.consumer({ groupId: uniqueName('cli_reader'), maxWaitTimeInMs: 100 })
  await consumer.connect()
  onTestFinished(() => consumer.disconnect())
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => void events.push(await codec.decode(message.value!)),
  })
  await waitFor(() => events.length >= count, { timeoutMs: 30_000, description: `${count} events` })
  return events
}

function capture() {
  const lines: string[] = []
  return { lines, write: (line: string) => void lines.push(line) }
}

describe('audit-pipeline produce', () => {
  it('sends a file of events that read back identical, and reports bad lines with their numbers', async () => {
    const topic = await newTopic()
    const file = join(mkdtempSync(join(tmpdir(), 'produce-')), 'events.ndjson')
    writeFileSync(
      file,
      [
        ...exampleLines,
        '{"event_id": "nope"}',
        '',
        'not json',
        JSON.stringify({ ...JSON.parse(exampleLines[0]!), category: 'gossip' }),
      ].join('\n'),
    )
    const out = capture()
    const exitCode = await produceCommand({ file, topic }, endpoints, {
      stdin: Readable.from([]),
      out: out.write,
      err: () => undefined,
    })

    expect(exitCode).toBe(1)
    expect(out.lines[0]).toMatch(new RegExp(`^sent 3 event\\(s\\) to ${topic} in [\\d.]+ s; rejected 3$`))
    expect(out.lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}line 4: event_id: expected a UUID/),
      expect.stringMatching(/^ {2}line 6: not JSON: /),
      "  line 7: category: unknown category 'gossip'; expected one of: business, security, platform, debug",
    ])

    const received = await readEvents(topic, 3)
    const byId = new Map(received.map((e) => [e.event_id, e]))
    for (const line of exampleLines) {
      const expected = parseEventJson(JSON.parse(line))
      const { recorded_at, ...rest } = byId.get(expected.event_id)!
      expect(rest).toEqual(expected)
      expect(recorded_at).toBeGreaterThan(Date.parse('2026-01-01'))
    }
  })

  it('reads standard input with -, and exits 0 when every line was sent', async () => {
    const topic = await newTopic()
    const out = capture()
    const exitCode = await produceCommand({ file: '-', topic }, endpoints, {
      stdin: Readable.from(exampleLines.join('\n')),
      out: out.write,
      err: () => undefined,
    })
    expect(exitCode).toBe(0)
    expect(out.lines).toEqual([expect.stringMatching(/^sent 3 event\(s\) to .* rejected 0$/)])
    expect(await readEvents(topic, 3)).toHaveLength(3)
  })

  it('names the missing file and the missing topic', async () => {
    const io = { stdin: Readable.from([]), out: () => undefined, err: () => undefined }
    await expect(produceCommand({ file: '/nonexistent/events.ndjson' }, endpoints, io)).rejects.toThrow(
      'cannot read /nonexistent/events.ndjson: no such file',
    )
    const file = join(mkdtempSync(join(tmpdir(), 'produce-')), 'events.ndjson')
    writeFileSync(file, exampleLines[0]!)
    await expect(produceCommand({ file, topic: 'no_such_topic_here' }, endpoints, io)).rejects.toThrow(
      /^topic no_such_topic_here does not exist at 127\.0\.0\.1:\d+: create it/,
    )
  })
})
