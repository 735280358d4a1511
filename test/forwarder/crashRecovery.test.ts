import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { uniqueName, waitFor, waitForCommittedToEnd } from '@audit-pipeline/testing'
import { buildPackage, startServiceProcess, type ServiceProcess } from '../support/serviceProcess.js'
import { firstOutOfOrder, forwardedEvents } from './events.js'
import { startHttpReceiver } from './receivers.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'forwarder-crash-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
const eventCount = 20_000
const kills = 4
const forwarderBin = 'services/forwarder/bin/audit-forwarder.js'

beforeAll(() => buildPackage('@audit-pipeline/forwarder'), 180_000)

type Delivered = { event_id: string; object?: { id?: string }; attributes?: { seq?: string } }

/**
 * At least once, shown: 20,000 events flow through the forwarder process to a webhook while the
 * process is killed with SIGKILL four times, each time with a request in flight, and restarted.
 * Every event arrives; the repeats (batches sent again after a kill) are counted by event id.
 */
describe('forwarder under SIGKILL', () => {
  it(
    'delivers every event at least once, in order per object, duplicates identified by event id',
    { timeout: 600_000 },
    async () => {
      const input = uniqueName('fwd_crash_in')
      const prefix = uniqueName('fwd_crash')
      const admin = kafka.admin()
      await admin.connect()
      onTestFinished(() => admin.disconnect())
      await admin.createTopics({ topics: [{ topic: input, numPartitions: 6 }], waitForLeaders: true })

      // Slow answers, so there is always a request in flight to be killed in.
      const receiver = await startHttpReceiver(() => ({ status: 200, delayMs: 15 }))
      const dir = mkdtempSync(join(tmpdir(), 'forwarder-crash-'))
      const destinationsFile = join(dir, 'destinations.yaml')
      writeFileSync(
        destinationsFile,
        [
          'destinations:',
          '  - name: hook',
          '    kind: webhook',
          `    url: ${receiver.url}/audit`,
          '    batch: { max_events: 250, max_age_ms: 200 }',
          '    allowed_private_addresses: [127.0.0.1]',
        ].join('\n'),
      )
      const env = {
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        FORWARDER_DESTINATIONS_FILE: destinationsFile,
        FORWARDER_INPUT_TOPICS: input,
        FORWARDER_GROUP_ID_PREFIX: prefix,
        FORWARDER_DEAD_LETTER_TOPIC_PREFIX: `${prefix}.dlq.`,
        FORWARDER_RETRY_TOPIC_PREFIX: `${prefix}.retry.`,
        FORWARDER_SESSION_TIMEOUT_MS: '6000',
        FORWARDER_SHUTDOWN_DEADLINE_MS: '5000',
        OPS_PORT: '0',
        LOG_LEVEL: 'info',
      }

      const codec = await createAuditEventCodec({
        registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }),
      })
      const events = forwardedEvents(eventCount, 1_009)
      const producer = kafka.producer()
      await producer.connect()
      onTestFinished(() => producer.disconnect())
      const producing = (async () => {
        for (let start = 0; start < events.length; start += 2_000) {
          await producer.send({
            topic: input,
            acks: -1,
            messages: events
              .slice(start, start + 2_000)
              .map((event) => ({ key: event.object.id, value: codec.encode(event) })),
          })
        }
      })()

      const delivered = () =>
        receiver.requests.filter((r) => r.status === 200).flatMap((r) => JSON.parse(r.body) as Delivered[])
      const start = async (): Promise<ServiceProcess> => {
        const forwarder = startServiceProcess(forwarderBin, env)
        await forwarder.waitForLog('ready')
        return forwarder
      }

      let running = await start()
      for (let kill = 0; kill < kills; kill++) {
        const target = delivered().length + 1_500 + Math.floor(Math.random() * 3_000)
        await waitFor(() => delivered().length >= Math.min(target, eventCount - 500), {
          timeoutMs: 120_000,
          description: `${target} events delivered before kill ${kill + 1}`,
        })
        await waitFor(() => receiver.inFlight() > 0, {
          timeoutMs: 30_000,
          intervalMs: 1,
          description: 'a request in flight',
        })
        running.child.kill('SIGKILL')
        expect(await running.exited).toBe('SIGKILL')
        running = await start()
      }
      await producing

      const ids = new Set(events.map((event) => event.event_id))
      await waitFor(() => new Set(delivered().map((event) => event.event_id)).size === ids.size, {
        timeoutMs: 180_000,
        description: `all ${eventCount} events delivered`,
      })
      await waitForCommittedToEnd(kafka, `${prefix}.hook`, input, 60_000)

      const all = delivered()
      const seen = new Map<string, number>()
      for (const event of all) seen.set(event.event_id, (seen.get(event.event_id) ?? 0) + 1)
      expect(new Set(seen.keys())).toEqual(ids)
      const duplicates = all.length - ids.size
      console.log(
        `forwarder under SIGKILL: ${eventCount} events, ${kills} kills, ${duplicates} delivered twice or more (by event_id)`,
      )
      // Repeats come only from batches in flight at a kill: at most a few batches per kill.
      expect(duplicates).toBeLessThanOrEqual(kills * 6 * 250)
      // Order per object holds in the first delivery of each event.
      const firstSeen = new Set<string>()
      const firstDeliveries = all.filter(
        (event) => !firstSeen.has(event.event_id) && Boolean(firstSeen.add(event.event_id)),
      )
      expect(firstOutOfOrder(firstDeliveries)).toBeUndefined()

      running.child.kill('SIGTERM')
      expect(await running.exited).toBe(0)
      expect(running.logs.some((line) => line.msg === 'forwarder stopped')).toBe(true)
    },
  )
})
