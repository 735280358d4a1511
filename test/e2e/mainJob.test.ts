import { randomUUID } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { isAlive } from '@audit-pipeline/local-stack'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { collectTopics, uniqueName, waitFor, testSigningKeyFile } from '@audit-pipeline/testing'
import { buildMainJob, startServiceProcess } from '../support/serviceProcess.js'

type InboxDelivery = { path: string; webhook_id: string | null; verified: boolean; body: unknown }

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'main-job-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})

beforeAll(() => {
  buildMainJob()
}, 300_000)

/**
 * `npm start` (audit-stack run) on the run's broker and registry: it starts every service with the
 * defaults from deploy/, waits until each is ready, prints them, and Ctrl-C stops them cleanly.
 * Topics, groups and routes are the test's own (the environment wins over deploy/ defaults); the
 * alert rules are deploy/alerting/rules.yaml, and webhooks go to the run's local inbox.
 */
describe('the main job', () => {
  it(
    'runs every service: events reach ClickHouse and the SIEM webhook, an alert reaches ops and ClickHouse, routes reload on SIGHUP, Ctrl-C stops all',
    { timeout: 150_000 },
    async () => {
      const [input, output, reloaded, deadLetters, alerts] = [
        'main_in',
        'main_out',
        'main_reloaded',
        'main_dlq',
        'main_alerts',
      ].map(uniqueName) as [string, string, string, string, string]
      const admin = kafka.admin()
      await admin.connect()
      onTestFinished(() => admin.disconnect())
      await admin.createTopics({
        topics: [input, output, deadLetters, alerts].map((topic) => ({ topic, numPartitions: 2 })),
        waitForLeaders: true,
      })
      const dir = mkdtempSync(join(tmpdir(), 'main-job-'))
      writeFileSync(join(dir, 'routes.yaml'), `default:\n  to: [${output}]\n`)

      const run = startServiceProcess(
        'deploy/local-stack/dist/cli.js',
        {
          KAFKA_BROKERS: stack.kafkaBrokers.join(','),
          SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
          AUDIT_STACK_DIR: join(dir, 'stack'),
          NORMALIZER_INPUT_TOPICS: input,
          NORMALIZER_ROUTES_FILE: join(dir, 'routes.yaml'),
          NORMALIZER_DEAD_LETTER_TOPIC: deadLetters,
          NORMALIZER_GROUP_ID: uniqueName('main-job'),
          SINK_INPUT_TOPICS: `${output},${alerts}`,
          SINK_ALERT_TOPICS: alerts,
          SINK_SIGNING_KEY_FILE: testSigningKeyFile(),
          SINK_GROUP_ID: uniqueName('main-job-sink'),
          SINK_DEAD_LETTER_TOPIC: deadLetters,
          SINK_BATCH_MAX_AGE_MS: '200',
          ALERTING_INPUT_TOPICS: output,
          ALERTING_ALERTS_TOPIC: alerts,
          ALERTING_STATE_TOPIC: uniqueName('main_alerting_state'),
          ALERTING_DEAD_LETTER_TOPIC: deadLetters,
          // Conflicts the test's own services dead-letter raise its alerts; no other test's.
          ALERTING_CONFLICT_INPUT_TOPICS: deadLetters,
          ALERTING_GROUP_ID: uniqueName('main-job-alerting'),
          ALERTING_TRANSACTIONAL_ID: uniqueName('main-job-alerting'),
          FORWARDER_INPUT_TOPICS: output,
          FORWARDER_GROUP_ID_PREFIX: uniqueName('main-job-forwarder'),
          FORWARDER_DEAD_LETTER_TOPIC_PREFIX: `${uniqueName('main_fwd_dlq')}.`,
          FORWARDER_RETRY_TOPIC_PREFIX: `${uniqueName('main_fwd_retry')}.`,
        },
        ['run'],
      )
      const banner = await waitFor(
        () => run.otherOutput.join('\n').includes('Press Ctrl-C') && run.otherOutput.join('\n'),
        { timeoutMs: 90_000, description: 'the status table' },
      )
      const normalizerLine = /normalizer\s+(http:\/\/127\.0\.0\.1:\d+)\s.*pid (\d+)/.exec(banner)
      expect(normalizerLine, banner).not.toBeNull()
      const [, opsUrl, pid] = normalizerLine!
      const sinkLine = /clickhouse-sink\+query-api\s+(http:\/\/127\.0\.0\.1:\d+)\s.*pid (\d+)/.exec(banner)
      expect(sinkLine, banner).not.toBeNull()
      const [, sinkOpsUrl, sinkPid] = sinkLine!
      expect((await fetch(`${opsUrl}/readyz`)).status).toBe(200)

      const collector = await collectTopics(kafka, [output])
      onTestFinished(() => collector.stop())
      const producer = kafka.producer()
      await producer.connect()
      onTestFinished(() => producer.disconnect())
      await producer.send({ topic: input, messages: ticketExampleLines().map((value) => ({ value })) })
      await waitFor(() => collector.messages.length >= 3, {
        timeoutMs: 30_000,
        description: '3 routed events',
      })
      // The three events and the alert the second one raises (priority lowered by a non-supervisor).
      await waitFor(
        async () =>
          /audit_sink_rows_inserted_total\{[^}]*\} 4\b/.test(
            await (await fetch(`${sinkOpsUrl}/metrics`)).text(),
          ),
        { timeoutMs: 30_000, description: 'the sink to write 3 events and 1 alert' },
      )
      // Both webhooks reached the local inbox, signed: the alert at /ops, the events at /siem.
      const inboxLog = join(dir, 'stack', 'logs', 'webhooks.ndjson')
      const deliveries = await waitFor(
        () => {
          const lines = existsSync(inboxLog) ? readFileSync(inboxLog, 'utf8').trim().split('\n') : []
          const parsed = lines.filter(Boolean).map((line) => JSON.parse(line) as InboxDelivery)
          const forwarded = parsed
            .filter((d) => d.path === '/siem')
            .flatMap((d) => (d.body as { event_id: string }[]).map((event) => event.event_id))
          return parsed.some((d) => d.path === '/ops') && new Set(forwarded).size >= 3 && parsed
        },
        { timeoutMs: 30_000, description: 'the alert and the forwarded events in the webhook inbox' },
      )
      expect(deliveries.every((d) => d.verified)).toBe(true)
      const alertDeliveries = deliveries.filter((d) => d.path === '/ops')
      expect(alertDeliveries).toHaveLength(1)
      expect(alertDeliveries[0]?.body).toMatchObject({
        type: 'alert.raised',
        data: { rule: 'priority-lowered-by-non-supervisor' },
      })
      const exampleIds = ticketExampleLines().map(
        (line) => (JSON.parse(line) as { event_id: string }).event_id,
      )
      const forwardedIds = deliveries
        .filter((d) => d.path === '/siem')
        .flatMap((d) => (d.body as { event_id: string }[]).map((event) => event.event_id))
      expect(new Set(forwardedIds)).toEqual(new Set(exampleIds))
      const metrics = await (await fetch(`${opsUrl}/metrics`)).text()
      expect(metrics).toMatch(
        /audit_normalizer_events_produced_total\{route="default",topic="[^"]+",service="normalizer"\} 3/,
      )

      // SIGHUP: the normalizer re-reads its routes and sends what follows to the new topic.
      writeFileSync(join(dir, 'routes.yaml'), `default:\n  to: [${reloaded}]\n`)
      process.kill(Number(pid), 'SIGHUP')
      const normalizerLog = join(dir, 'stack', 'logs', 'normalizer.log')
      await waitFor(() => readFileSync(normalizerLog, 'utf8').includes('"msg":"routes reloaded"'), {
        timeoutMs: 30_000,
        description: 'the normalizer to reload its routes',
      })
      const reloadedCollector = await collectTopics(kafka, [reloaded])
      onTestFinished(() => reloadedCollector.stop())
      // New event ids: the same ones again would be dropped as duplicates.
      const fresh = ticketExampleLines().map((line) =>
        JSON.stringify({ ...JSON.parse(line), event_id: randomUUID() }),
      )
      await producer.send({ topic: input, messages: fresh.map((value) => ({ value })) })
      await waitFor(() => reloadedCollector.messages.length >= 3, {
        timeoutMs: 30_000,
        description: '3 events on the reloaded route',
      })
      expect(collector.messages).toHaveLength(3)

      run.child.kill('SIGINT')
      expect(await run.exited).toBe(0)
      expect(run.otherOutput.join('\n')).toContain('Everything stopped.')
      expect(isAlive(Number(pid))).toBe(false)
      expect(isAlive(Number(sinkPid))).toBe(false)

      // The sink wrote the routed events to the stack's embedded ClickHouse.
      const timeline = execFileSync(
        process.execPath,
        [
          'test/support/queryStorage.mjs',
          join(dir, 'stack', 'clickhouse'),
          'audit',
          "SELECT actor_display_name FROM audit_events_deduplicated WHERE object_id = '9548-B1' ORDER BY occurred_at",
        ],
        { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8' },
      )
      expect(
        timeline
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { actor_display_name: string }).actor_display_name),
      ).toEqual(['Alex Mercer', 'Jack Peltrow', 'Stefany Ilds'])
      const storedAlerts = execFileSync(
        process.execPath,
        [
          'test/support/queryStorage.mjs',
          join(dir, 'stack', 'clickhouse'),
          'audit',
          "SELECT attributes['alert.rule'] AS rule FROM audit_events_deduplicated WHERE object_type = 'alert'",
        ],
        { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8' },
      )
      expect(
        storedAlerts
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as unknown),
      ).toEqual([{ rule: 'priority-lowered-by-non-supervisor' }])
    },
  )
})
