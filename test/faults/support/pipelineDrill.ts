import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kafka, Message } from 'kafkajs'
import { expect, onTestFinished } from 'vitest'
import { renewingProducer } from '@audit-pipeline/kafka'
import { createTopicsWithLeaders } from '@audit-pipeline/local-stack'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import {
  compareDelivery,
  uniqueName,
  waitFor,
  type AcknowledgedEvent,
  type DeliveryReport,
  type ObservedEvent,
  type StackEndpoints,
  testSigningKeyFile,
} from '@audit-pipeline/testing'
import { startServiceProcess, type ServiceProcess } from '../../support/serviceProcess.js'

const root = join(import.meta.dirname, '..', '..', '..')

/** The main job (`npm start`'s audit-stack run) on the run's broker and registry, with its own topics. */
export type PipelineDrill = {
  readonly dir: string
  readonly run: ServiceProcess
  readonly input: string
  readonly output: string
  readonly deadLetters: string
  readonly env: Record<string, string>
  /** The ClickHouse server the drill reads (CLICKHOUSE_URL); embedded in the drill's folder otherwise. */
  readonly clickhouse?: { url: string; database: string }
  /** A topic only the sink reads, besides the pipeline's (startPipelineDrill's sinkSideInput). */
  readonly sideInput?: string
  /** Each service's ops URL and PID as the status table printed them. */
  readonly services: ReadonlyMap<string, { opsUrl: string; pid: number }>
}

/** The ticket story's "priority lowered by a non-supervisor" update: the rule raises one alert per ticket. */
const [, raisedLine = '', loweredLine = ''] = ticketExampleLines()

/**
 * What a drill produces: `count` events on `keys` tickets, each ticket's updates in sequence.
 * Every `alertEvery`-th event is a priority lowered from Urgent on a ticket of its own, which the
 * main job's rules answer with one alert. The rest raise priorities, which no rule alerts on.
 */
export function drillEvents(
  count: number,
  options: { keys?: number; alertEvery?: number; twoMonths?: boolean } = {},
) {
  const keys = options.keys ?? 97
  const alertEvery = options.alertEvery ?? 50
  const raised = JSON.parse(raisedLine) as Record<string, unknown> & { object: Record<string, unknown> }
  const lowered = JSON.parse(loweredLine) as Record<string, unknown> & { object: Record<string, unknown> }
  const startMs = Date.parse('2026-12-01T00:00:00Z')
  const events: { message: Message; acknowledged: AcknowledgedEvent; alerting: boolean }[] = []
  for (let i = 0; i < count; i++) {
    const alerting = i % alertEvery === alertEvery - 1
    const key = alerting ? `ALERT-${i}` : `T-${i % keys}`
    const template = alerting ? lowered : raised
    const eventId = randomUUID()
    // Two months: every other event a month earlier, so every batch of the sink spans two parts.
    const monthEarlierMs = options.twoMonths && i % 2 === 1 ? 30 * 24 * 3_600_000 : 0
    const occurredAt = new Date(startMs + i - monthEarlierMs).toISOString()
    const event = {
      ...template,
      event_id: eventId,
      occurred_at: occurredAt,
      recorded_at: occurredAt,
      object: { ...template.object, id: key },
    }
    events.push({
      message: { key, value: JSON.stringify(event) },
      acknowledged: { eventId, key, sequence: i },
      alerting,
    })
  }
  return events
}

/** Messages no reader can take: each must end in the dead-letter topic with its reason. */
export function poisonMessages(count: number): { message: Message; errorClass: string }[] {
  const kinds = [
    // 6,000 levels deep: dead-lettered before anything walks it.
    {
      errorClass: 'EVENT_TOO_DEEP',
      value: () => {
        const event = JSON.parse(raisedLine) as Record<string, unknown>
        return JSON.stringify({ ...event, event_id: randomUUID(), before: { x: 0 } }).replace(
          '{"x":0}',
          '{"a":'.repeat(6_000) + '1' + '}'.repeat(6_000),
        )
      },
    },
    { errorClass: 'INPUT_REJECTED', value: () => `not json ${randomUUID()}` },
    {
      errorClass: 'EVENT_INVALID',
      value: () =>
        JSON.stringify({
          ...(JSON.parse(raisedLine) as object),
          event_id: randomUUID(),
          occurred_at: 'yesterday',
        }),
    },
  ]
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % kinds.length]!
    return { message: { key: `POISON-${i}`, value: kind.value() }, errorClass: kind.errorClass }
  })
}

/**
 * Sends `messages` in order, `chunk` at a time with acks=all, and returns when all are
 * acknowledged. A chunk the broker did not acknowledge (it was down) is sent again until it is:
 * only what was acknowledged counts, so a copy that landed anyway shows as unexpected, never
 * as lost.
 */
export async function produceAll(
  kafka: Kafka,
  topic: string,
  messages: readonly Message[],
  options: { chunk?: number; onChunk?: (sent: number) => Promise<void> | void } = {},
): Promise<{ failedAttempts: number }> {
  const chunk = options.chunk ?? 500
  // As the SDK does: a new producer after a failed send (kafkajs's idempotent producer can be
  // stuck after one, and the drill would resend the same chunk for ever).
  const producer = renewingProducer(
    () => kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3 } }),
    { warn: () => undefined, debug: () => undefined },
  )
  await producer.connect()
  onTestFinished(() => producer.disconnect())
  let failedAttempts = 0
  for (let start = 0; start < messages.length; start += chunk) {
    for (;;) {
      try {
        await producer.send({ topic, acks: -1, messages: messages.slice(start, start + chunk) })
        break
      } catch {
        failedAttempts++
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
    await options.onChunk?.(start + chunk)
  }
  return { failedAttempts }
}

/** Starts the main job on fresh topics and waits for its status table. */
export async function startPipelineDrill(
  stack: StackEndpoints,
  kafka: Kafka,
  env: Record<string, string> = {},
  options: {
    sinkSideInput?: boolean
    /** A ClickHouse server: the services reach it at `serviceUrl` (a proxy), the drill reads `url`. */
    clickhouse?: { url: string; serviceUrl: string }
  } = {},
): Promise<PipelineDrill> {
  const [input, output, deadLetters, alerts, side] = [
    'drill_in',
    'drill_out',
    'drill_dlq',
    'drill_alerts',
    'drill_sink_side',
  ].map(uniqueName) as [string, string, string, string, string]
  const sideInput = options.sinkSideInput ? side : undefined
  const clickhouse = options.clickhouse && {
    url: options.clickhouse.url,
    database: uniqueName('drill_audit'),
  }
  const admin = kafka.admin()
  await admin.connect()
  try {
    // Not kafkajs's waitForLeaders: on a three-node cluster it asks a node that may not know the topic yet.
    await createTopicsWithLeaders(
      admin,
      [input, output, deadLetters, alerts, ...(sideInput ? [sideInput] : [])].map((topic) => ({
        topic,
        numPartitions: 6,
      })),
    )
  } finally {
    await admin.disconnect()
  }
  const dir = mkdtempSync(join(tmpdir(), 'fault-drill-'))
  writeFileSync(join(dir, 'routes.yaml'), `default:\n  to: [${output}]\n`)
  const drillEnv: Record<string, string> = {
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    AUDIT_STACK_DIR: join(dir, 'stack'),
    NORMALIZER_INPUT_TOPICS: input,
    NORMALIZER_ROUTES_FILE: join(dir, 'routes.yaml'),
    NORMALIZER_DEAD_LETTER_TOPIC: deadLetters,
    NORMALIZER_GROUP_ID: uniqueName('drill-normalizer'),
    NORMALIZER_SESSION_TIMEOUT_MS: '6000',
    NORMALIZER_SHUTDOWN_DEADLINE_MS: '5000',
    SINK_INPUT_TOPICS: [output, alerts, ...(sideInput ? [sideInput] : [])].join(','),
    SINK_ALERT_TOPICS: alerts,
    SINK_SIGNING_KEY_FILE: testSigningKeyFile(),
    SINK_GROUP_ID: uniqueName('drill-sink'),
    SINK_DEAD_LETTER_TOPIC: deadLetters,
    SINK_BATCH_MAX_AGE_MS: '200',
    SINK_SESSION_TIMEOUT_MS: '6000',
    SINK_SHUTDOWN_DEADLINE_MS: '5000',
    ALERTING_INPUT_TOPICS: output,
    ALERTING_ALERTS_TOPIC: alerts,
    ALERTING_STATE_TOPIC: uniqueName('drill_alerting_state'),
    ALERTING_DEAD_LETTER_TOPIC: deadLetters,
    // Conflicts the test's own services dead-letter raise its alerts; no other test's.
    ALERTING_CONFLICT_INPUT_TOPICS: deadLetters,
    ALERTING_GROUP_ID: uniqueName('drill-alerting'),
    ALERTING_TRANSACTIONAL_ID: uniqueName('drill-alerting'),
    ALERTING_SESSION_TIMEOUT_MS: '6000',
    ALERTING_SHUTDOWN_DEADLINE_MS: '5000',
    FORWARDER_INPUT_TOPICS: output,
    FORWARDER_GROUP_ID_PREFIX: uniqueName('drill-forwarder'),
    FORWARDER_DEAD_LETTER_TOPIC_PREFIX: `${uniqueName('drill_fwd_dlq')}.`,
    FORWARDER_RETRY_TOPIC_PREFIX: `${uniqueName('drill_fwd_retry')}.`,
    FORWARDER_SESSION_TIMEOUT_MS: '6000',
    FORWARDER_SHUTDOWN_DEADLINE_MS: '5000',
    ...(clickhouse && {
      CLICKHOUSE_URL: options.clickhouse!.serviceUrl,
      CLICKHOUSE_DATABASE: clickhouse.database,
    }),
    ...env,
  }
  const run = startServiceProcess('deploy/local-stack/dist/cli.js', drillEnv, ['run'])
  onTestFinished(async () => {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGINT')
      await run.exited
    }
  })
  // A main job that exits while starting says why: fail with that at once, not at the deadline.
  const exitedEarly = run.exited.then((code) => {
    throw new Error(`the main job exited (${code}) while starting:\n${run.otherOutput.slice(-40).join('\n')}`)
  })
  const banner = await Promise.race([
    waitFor(() => run.otherOutput.join('\n').includes('Press Ctrl-C') && run.otherOutput.join('\n'), {
      timeoutMs: 180_000,
      description: 'the main job status table',
    }),
    exitedEarly,
  ])
  exitedEarly.catch(() => undefined)
  const services = new Map<string, { opsUrl: string; pid: number }>()
  for (const match of banner.matchAll(/^\s*(\S+)\s+(http:\/\/127\.0\.0\.1:\d+)\s.*pid (\d+)/gm)) {
    services.set(match[1]!, { opsUrl: match[2]!, pid: Number(match[3]) })
  }
  return {
    dir,
    run,
    input,
    output,
    deadLetters,
    env: drillEnv,
    services,
    ...(sideInput && { sideInput }),
    ...(clickhouse && { clickhouse }),
  }
}

type InboxDelivery = { path: string; body: unknown }

function inboxDeliveries(drill: PipelineDrill): InboxDelivery[] {
  const file = join(drill.dir, 'stack', 'logs', 'webhooks.ndjson')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as InboxDelivery)
}

/** The event ids the forwarder delivered to the local SIEM webhook, in the order they arrived. */
export function forwardedEvents(drill: PipelineDrill): ObservedEvent[] {
  return inboxDeliveries(drill)
    .filter((delivery) => delivery.path === '/siem')
    .flatMap((delivery) =>
      (delivery.body as { event_id: string }[]).map((event) => ({ eventId: event.event_id })),
    )
}

/** The rule the drills' alerting events raise (deploy/alerting/rules.yaml). */
export const drillRule = 'priority-lowered-by-non-supervisor'

/** The events behind each alert of the drill's rule delivered to the ops webhook, one entry per alert raised. */
export function alertedEvents(drill: PipelineDrill): ObservedEvent[] {
  return inboxDeliveries(drill)
    .filter((delivery) => delivery.path === '/ops')
    .flatMap((delivery) => {
      // Standard Webhooks' envelope: the alert is `data`.
      const alert = (
        delivery.body as { data?: { status?: string; rule?: string; triggering_event_ids?: string[] } }
      ).data
      if (alert?.status !== 'raised' || alert.rule !== drillRule) return []
      return (alert.triggering_event_ids ?? []).map((eventId) => ({ eventId }))
    })
}

/** Stops the main job with Ctrl-C, as a user would, and checks it said so. */
export async function stopDrill(drill: PipelineDrill): Promise<void> {
  drill.run.child.kill('SIGINT')
  expect(await drill.run.exited).toBe(0)
}

/** Runs SQL on the drill's embedded ClickHouse (once the main job stopped: one process holds it). */
export function queryStored<Row>(drill: PipelineDrill, sql: string): Row[] {
  const out = execFileSync(
    process.execPath,
    [
      'test/support/queryStorage.mjs',
      // With a server the drill asks it directly (not through any proxy a fault cuts).
      drill.clickhouse?.url ?? join(drill.dir, 'stack', 'clickhouse'),
      drill.clickhouse?.database ?? 'audit',
      sql,
    ],
    { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  )
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Row)
}

/** The ticket events as analysts see them (the deduplicated view), in the order the sink read them. */
export function storedEvents(drill: PipelineDrill): ObservedEvent[] {
  return queryStored<{ event_id: string }>(
    drill,
    "SELECT event_id FROM audit_events_deduplicated WHERE object_type = 'ticket' ORDER BY kafka_partition, kafka_offset",
  ).map((row) => ({ eventId: row.event_id }))
}

/** The alerts as analysts see them: the events behind each raised alert. */
export function storedAlerts(drill: PipelineDrill): ObservedEvent[] {
  return queryStored<{ ids: string }>(
    drill,
    `SELECT attributes['alert.triggering_event_ids'] AS ids FROM audit_events_deduplicated WHERE object_type = 'alert' AND attributes['alert.status'] = 'raised' AND attributes['alert.rule'] = '${drillRule}'`,
  ).flatMap((row) => (JSON.parse(row.ids) as string[]).map((eventId) => ({ eventId })))
}

/** One row of the fault table in the closing note. */
export type FaultRow = {
  fault: string
  stage: string
  report: DeliveryReport
  recoverySeconds?: number
}

const rows: FaultRow[] = []

/** Compares a stage with what was acknowledged, keeps the row for the table, and returns the report. */
export function recordStage(
  fault: string,
  stage: string,
  acknowledged: readonly AcknowledgedEvent[],
  observed: readonly ObservedEvent[],
  recoverySeconds?: number,
): DeliveryReport {
  const report = compareDelivery(acknowledged, observed)
  const row: FaultRow = { fault, stage, report, ...(recoverySeconds !== undefined && { recoverySeconds }) }
  rows.push(row)
  const file = process.env['AUDIT_FAULT_TABLE']
  if (file) appendFileSync(file, `${tableLine(row)}\n`)
  return report
}

function tableLine({ fault, stage, report, recoverySeconds }: FaultRow): string {
  return `| ${fault} | ${stage} | ${report.acknowledged} | ${report.observed} | ${report.lost} | ${report.duplicated} | ${report.unexpected} | ${report.reordered} | ${recoverySeconds?.toFixed(1) ?? ''} |`
}

/** Prints the fault table so far: every drill ends with it, so the run's output holds the numbers. */
export function printFaultTable(): void {
  console.log(
    [
      '| fault | stage | acknowledged | observed | lost | duplicated | unexpected | reordered | recovery s |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows.map(tableLine),
    ].join('\n'),
  )
}
