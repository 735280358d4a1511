import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { parseEventJson } from '@audit-pipeline/event-model'
import { createTopicsWithLeaders } from '@audit-pipeline/local-stack'
import { publicKeysDocument, readSigningKey } from '@audit-pipeline/integrity'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import {
  testSigningKeyFile,
  waitFor,
  waitForCommittedToEnd,
  type AcknowledgedEvent,
} from '@audit-pipeline/testing'
import { buildMainJob, buildPackage } from '../support/serviceProcess.js'
import {
  expectNothingLost,
  runDeliveryDrill,
  type DeadLetterSeen,
  type DrillOptions,
} from './support/deliveryDrill.js'
import { produceAll, type PipelineDrill } from './support/pipelineDrill.js'

/**
 * The sink SIGKILLed inside each window in which a sink that skipped every offset up to the
 * highest one stored once lost rows. The first two crashes come from the sink's own failpoints
 * (AUDIT_FAILPOINTS), so the kill lands exactly in the window; the third is a topic recreated
 * while the sink was frozen, then the sink killed before it ever saw the new topic alive.
 */
const stack = inject('stack')
const kafka = new Kafka({ clientId: 'fault-sink', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })
const sinkProcess = 'clickhouse-sink+query-api'

beforeAll(() => {
  buildMainJob()
  buildPackage('@audit-pipeline/cli')
}, 300_000)

/** What the drills read of `verify --json`'s report (TrailReport, packages/verification). */
type TrailReport = {
  intact: boolean
  chains: { chain: string; findings: unknown[] }[]
  inserted: unknown[]
  rolledBack: unknown[]
  totals: { events: number; entries: number }
}

/**
 * `audit-pipeline verify --json` over the drill's stopped data folder, trusting the key the drill's
 * sink signed with: its exit code and report.
 */
function verifyDrillTrail(drill: PipelineDrill): { exitCode: number; report: TrailReport } {
  const keysFile = join(drill.dir, 'checkpoint-public-keys.json')
  writeFileSync(
    keysFile,
    JSON.stringify(publicKeysDocument([readSigningKey(testSigningKeyFile()).publicKey])),
  )
  const root = join(import.meta.dirname, '..', '..')
  const args = [
    join(root, 'packages/cli/bin/audit-pipeline.js'),
    'verify',
    '--json',
    '--public-keys',
    keysFile,
  ]
  const env = {
    ...process.env,
    CLICKHOUSE_EMBEDDED_PATH: join(drill.dir, 'stack', 'clickhouse'),
    CLICKHOUSE_DATABASE: 'audit',
  }
  try {
    const out = execFileSync(process.execPath, args, { cwd: drill.dir, env, encoding: 'utf8' })
    return { exitCode: 0, report: JSON.parse(out) as TrailReport }
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string }
    if (failed.status !== 1) throw new Error(`verify exited ${failed.status}: ${failed.stderr}`)
    return { exitCode: 1, report: JSON.parse(failed.stdout) as TrailReport }
  }
}

/**
 * A drill with one of the sink's failpoints armed: the fault is the sink reaching it (and
 * SIGKILLing itself there); afterwards the point has fired and the first sink process is gone.
 */
async function failpointDrill(
  failpoint: string,
  options: Omit<DrillOptions, 'stack' | 'kafka' | 'goodEvents' | 'env' | 'inject'> & {
    beforeFault?: (drill: PipelineDrill) => Promise<void>
  },
) {
  const failpointsDir = mkdtempSync(join(tmpdir(), 'failpoints-'))
  let drilled: PipelineDrill | undefined
  const result = await runDeliveryDrill({
    ...options,
    stack,
    kafka,
    goodEvents: 20_000,
    env: { AUDIT_FAILPOINTS: failpoint, AUDIT_FAILPOINTS_DIR: failpointsDir },
    inject: async (drill) => {
      drilled = drill
      await options.beforeFault?.(drill)
      await waitFor(() => existsSync(join(failpointsDir, `${failpoint}.fired`)), {
        timeoutMs: 120_000,
        description: `the sink to reach ${failpoint}`,
      })
    },
  })
  expectNothingLost(result)
  expect(existsSync(join(failpointsDir, `${failpoint}.fired`)), `${failpoint} fired`).toBe(true)
  const pid = drilled?.services.get(sinkProcess)?.pid
  expect(pid).toBeDefined()
  expect(() => process.kill(pid!, 0), 'the first sink process is gone').toThrow(/ESRCH/)
  return result
}

describe('the sink killed inside each window', () => {
  it(
    'between the insert and the dead-letter send: every row stored once, every refused record dead-lettered once',
    { timeout: 600_000 },
    async () => {
      // Records no reader can decode, straight into the sink's input: its batch holds dead letters.
      const undecodable = Array.from({ length: 50 }, (_, i) => ({
        key: `SINK-POISON-${i}`,
        value: Buffer.from(`not an Avro event ${i}`),
      }))
      const bySink = (letters: readonly DeadLetterSeen[], key: string) =>
        letters.filter((l) => l.key === key && l.service === 'clickhouse-sink')
      const result = await failpointDrill('sink.before-dead-letters', {
        fault: 'sink SIGKILL after insert, before dead letters',
        deadLettersExpected: (letters) => undecodable.every(({ key }) => bySink(letters, key).length > 0),
        beforeFault: (drill) => produceAll(kafka, drill.output, undecodable).then(() => undefined),
      })
      for (const { key } of undecodable) {
        expect(
          bySink(result.deadLetters, key).map((l) => l.errorClass),
          `the sink's dead letters of ${key}`,
        ).toEqual(['EVENT_UNDECODABLE'])
      }
    },
  )

  it(
    'between storing the rows and chaining them: every row stored once and chained once, and the trail verifies',
    { timeout: 600_000 },
    async () => {
      const { drill } = await failpointDrill('sink.before-chain', {
        fault: 'sink SIGKILL after insert, before chain entries',
      })
      const { exitCode, report } = verifyDrillTrail(drill)
      expect([
        ...report.chains.flatMap((chain) => chain.findings),
        ...report.inserted,
        ...report.rolledBack,
      ]).toEqual([])
      expect(report.intact).toBe(true)
      expect(exitCode).toBe(0)
      // The drill's 20,000 ticket events and its alerts, each recorded by exactly one entry.
      expect(report.totals.events).toBeGreaterThanOrEqual(20_000)
      expect(report.totals.entries).toBe(report.totals.events)
    },
  )

  it(
    'between the two parts of a batch spanning two months: every row stored once',
    { timeout: 600_000 },
    () =>
      failpointDrill('sink.between-parts', {
        fault: 'sink SIGKILL between the parts of a two-month batch',
        twoMonths: true,
      }),
  )

  it(
    'after its topic was deleted and created again: the new topic’s events stored beside the old ones at the same offsets',
    { timeout: 600_000 },
    async () => {
      const codec = await createAuditEventCodec({
        registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }),
      })
      const [, raisedLine = ''] = ticketExampleLines()
      const template = parseEventJson(JSON.parse(raisedLine))
      const sideEvents = (generation: string, count: number) =>
        Array.from({ length: count }, (_, i) => {
          const key = `SIDE-${generation}-${i}`
          const eventId = crypto.randomUUID()
          const event = {
            ...template,
            event_id: eventId,
            recorded_at: template.occurred_at,
            object: { ...template.object, id: key },
          }
          return {
            message: { key, value: codec.encode(event) },
            acknowledged: { eventId, key, sequence: i } satisfies AcknowledgedEvent,
          }
        })
      let killed: PipelineDrill | undefined
      const result = await runDeliveryDrill({
        fault: 'sink frozen, its topic recreated, sink SIGKILL',
        stack,
        kafka,
        goodEvents: 20_000,
        sinkSideInput: true,
        inject: async (drill) => {
          killed = drill
          const side = drill.sideInput!
          const sink = drill.services.get(sinkProcess)!
          const before = sideEvents('old', 2_000)
          await produceAll(
            kafka,
            side,
            before.map((e) => e.message),
          )
          await waitForCommittedToEnd(kafka, drill.env['SINK_GROUP_ID']!, side, 120_000)
          process.kill(sink.pid, 'SIGSTOP')
          const admin = kafka.admin()
          await admin.connect()
          try {
            await admin.deleteTopics({ topics: [side] })
            await waitFor(async () => !(await admin.listTopics()).includes(side), {
              timeoutMs: 60_000,
              description: `${side} deleted`,
            })
            await createTopicsWithLeaders(admin, [{ topic: side, numPartitions: 6 }])
          } finally {
            await admin.disconnect()
          }
          const after = sideEvents('new', 2_000)
          await produceAll(
            kafka,
            side,
            after.map((e) => e.message),
          )
          // Killed while frozen: the sink never saw the new topic; the next one starts from its stored rows.
          process.kill(sink.pid, 'SIGKILL')
          return { stored: [...before, ...after].map((e) => e.acknowledged) }
        },
      })
      expectNothingLost(result)
      expect(() => process.kill(killed!.services.get(sinkProcess)!.pid, 0)).toThrow(/ESRCH/)
    },
  )
})
