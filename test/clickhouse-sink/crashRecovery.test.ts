import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, type Message } from 'kafkajs'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { uniqueName, waitFor, testSigningKeyFile } from '@audit-pipeline/testing'
import { buildPackage, startServiceProcess, type ServiceProcess } from '../support/serviceProcess.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'sink-crash-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
const eventCount = 100_000
const kills = 5
const sinkBin = 'services/clickhouse-sink/bin/audit-clickhouse-sink.js'

beforeAll(() => buildPackage('@audit-pipeline/clickhouse-sink'), 180_000)

/**
 * Effectively once, shown: 100,000 events flow into the sink process while it is killed with
 * SIGKILL five times, each time while a batch is being written, and restarted. Afterwards
 * ClickHouse holds exactly the 100,000 events, each once through the documented view.
 */
describe('ClickHouse sink under SIGKILL', () => {
  it('stores every event exactly once through the view', { timeout: 600_000 }, async () => {
    const [input, deadLetters] = ['sink_crash_in', 'sink_crash_dlq'].map(uniqueName) as [string, string]
    const admin = kafka.admin()
    await admin.connect()
    onTestFinished(() => admin.disconnect())
    await admin.createTopics({
      topics: [input, deadLetters].map((topic) => ({ topic, numPartitions: 6 })),
      waitForLeaders: true,
    })
    const dataPath = mkdtempSync(join(tmpdir(), 'sink-crash-chdb-'))
    const groupId = uniqueName('sink-crash')
    const env = {
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      CLICKHOUSE_EMBEDDED_PATH: dataPath,
      CLICKHOUSE_DATABASE: 'audit',
      SINK_INPUT_TOPICS: input,
      SINK_SIGNING_KEY_FILE: testSigningKeyFile(),
      SINK_GROUP_ID: groupId,
      SINK_DEAD_LETTER_TOPIC: deadLetters,
      // Small batches, so there are many inserts to be killed in.
      SINK_BATCH_MAX_ROWS: '4000',
      SINK_BATCH_MAX_AGE_MS: '300',
      SINK_SESSION_TIMEOUT_MS: '6000',
      SINK_SHUTDOWN_DEADLINE_MS: '5000',
      OPS_PORT: '0',
      LOG_LEVEL: 'info',
    }

    const codec = await createAuditEventCodec({
      registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }),
    })
    const template = parseEventJson(JSON.parse(ticketExampleLines()[2]!))
    const ids = new Set<string>()
    const messages: Message[] = []
    for (let i = 0; i < eventCount; i++) {
      const event: AuditEvent = {
        ...template,
        event_id: randomUUID(),
        recorded_at: template.occurred_at + i,
        object: { ...template.object, id: `T-${i % 1_009}` },
      }
      ids.add(event.event_id)
      messages.push({ key: event.object.id, value: codec.encode(event) })
    }
    const producer = kafka.producer()
    await producer.connect()
    onTestFinished(() => producer.disconnect())
    const producing = (async () => {
      for (let start = 0; start < messages.length; start += 2_000) {
        await producer.send({ topic: input, acks: -1, messages: messages.slice(start, start + 2_000) })
      }
    })()

    const start = async () => {
      const sink = startServiceProcess(sinkBin, env)
      const ready = await sink.waitForLog('ready')
      return { sink, opsUrl: String(ready['metrics']).replace(/\/metrics$/, '') }
    }
    const rowsInserted = async (opsUrl: string) => {
      const text = await (await fetch(`${opsUrl}/metrics`)).text()
      return Number(/^audit_sink_rows_inserted_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0)
    }
    let running: { sink: ServiceProcess; opsUrl: string } = await start()
    const killedAt: number[] = []
    let stored = 0
    for (let kill = 0; kill < kills; kill++) {
      // Let it write a random number of batches, then kill it while it writes the next one.
      const target = stored + 4_000 + Math.floor(Math.random() * 12_000)
      const { sink, opsUrl } = running
      await waitFor(async () => (await rowsInserted(opsUrl)) + stored >= target, {
        timeoutMs: 120_000,
        description: `${target} rows before kill ${kill + 1}`,
      })
      await waitFor(
        async () => {
          const ready = (await (await fetch(`${opsUrl}/readyz`)).json()) as { writing?: boolean }
          return ready.writing === true
        },
        { timeoutMs: 60_000, intervalMs: 1, description: 'an insert in progress' },
      )
      const confirmed = await rowsInserted(opsUrl)
      sink.child.kill('SIGKILL')
      expect(await sink.exited).toBe('SIGKILL')
      stored += confirmed
      killedAt.push(stored)
      running = await start()
    }
    await producing

    // Everything committed, then a clean stop.
    const ends = await admin.fetchTopicOffsets(input)
    await waitFor(
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [input] })
        return ends.every(
          (end) => committed?.partitions.find((p) => p.partition === end.partition)?.offset === end.high,
        )
      },
      { timeoutMs: 180_000, intervalMs: 500, description: 'every offset committed' },
    )
    running.sink.child.kill('SIGTERM')
    expect(await running.sink.exited).toBe(0)

    const query = (sql: string) =>
      execFileSync(process.execPath, ['test/support/queryStorage.mjs', dataPath, 'audit', sql], {
        cwd: join(import.meta.dirname, '..', '..'),
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      })
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, string>)
    const [totals] = query('SELECT count() AS rows, uniqExact(event_id) AS distinct_events FROM audit_events')
    const viewIds = query('SELECT toString(event_id) AS id FROM audit_events_deduplicated').map(
      (row) => row['id'],
    )
    expect(viewIds).toHaveLength(eventCount)
    expect(new Set(viewIds).size).toBe(eventCount)
    expect(viewIds.filter((id) => !ids.has(id!))).toEqual([])
    expect(Number(totals!['distinct_events'])).toBe(eventCount)
    console.log(
      `[sink crash test] ${eventCount} events, SIGKILL during an insert after ${killedAt.join(', ')} confirmed rows: ${totals!['rows']} rows stored (${Number(totals!['rows']) - eventCount} physical duplicates before merges), ${viewIds.length} events through audit_events_deduplicated`,
    )
  })
})
