import { randomUUID } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { isAlive } from '@audit-pipeline/local-stack'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { collectTopics, uniqueName, waitFor } from '@audit-pipeline/testing'
import { buildPackage, startServiceProcess } from '../support/serviceProcess.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'main-job-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})

beforeAll(() => {
  buildPackage('@audit-pipeline/local-stack')
  buildPackage('@audit-pipeline/normalizer')
  buildPackage('@audit-pipeline/clickhouse-sink')
}, 180_000)

/**
 * `npm start` (audit-stack run) on the run's broker and registry: it starts the normalizer with the
 * defaults from deploy/, waits until it is ready, prints it, and Ctrl-C stops it cleanly. Topics and
 * routes are the test's own (the environment wins over deploy/ defaults).
 */
describe('the main job', () => {
  it(
    'runs the normalizer and the sink: events reach ClickHouse, routes reload on SIGHUP, Ctrl-C stops all',
    { timeout: 120_000 },
    async () => {
      const [input, output, reloaded, deadLetters] = ['main_in', 'main_out', 'main_reloaded', 'main_dlq'].map(
        uniqueName,
      ) as [string, string, string, string]
      const admin = kafka.admin()
      await admin.connect()
      onTestFinished(() => admin.disconnect())
      await admin.createTopics({
        topics: [input, output, deadLetters].map((topic) => ({ topic, numPartitions: 2 })),
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
          SINK_INPUT_TOPICS: output,
          SINK_GROUP_ID: uniqueName('main-job-sink'),
          SINK_DEAD_LETTER_TOPIC: deadLetters,
          SINK_BATCH_MAX_AGE_MS: '200',
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
      const sinkLine = /clickhouse-sink\s+(http:\/\/127\.0\.0\.1:\d+)\s.*pid (\d+)/.exec(banner)
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
      await waitFor(
        async () =>
          /audit_sink_rows_inserted_total\{[^}]*\} 3\b/.test(
            await (await fetch(`${sinkOpsUrl}/metrics`)).text(),
          ),
        { timeoutMs: 30_000, description: 'the sink to write 3 rows' },
      )
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
          'test/support/queryEmbedded.mjs',
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
    },
  )
})
