import type { Kafka, Message } from 'kafkajs'
import { expect, onTestFinished } from 'vitest'
import { deadLetterHeaderNames } from '@audit-pipeline/dead-letter'
import {
  collectTopics,
  waitFor,
  type AcknowledgedEvent,
  type CollectedMessage,
  type DeliveryReport,
  type StackEndpoints,
} from '@audit-pipeline/testing'
import {
  alertedEvents,
  drillEvents,
  forwardedEvents,
  poisonMessages,
  printFaultTable,
  produceAll,
  recordStage,
  startPipelineDrill,
  stopDrill,
  storedAlerts,
  storedEvents,
  type PipelineDrill,
} from './pipelineDrill.js'

export type DrillOptions = {
  /** The fault's name in the table. */
  fault: string
  stack: StackEndpoints
  kafka: Kafka
  goodEvents: number
  poison?: number
  env?: Record<string, string>
  /**
   * The fault, started once a third of the events were acknowledged, while the rest are produced.
   * Resolves when the fault is over (the broker restarted, the process resumed): recovery time is
   * measured from then until every stage holds every acknowledged event.
   */
  inject?: (drill: PipelineDrill) => Promise<void | FaultEvents>
  settleTimeoutMs?: number
  /** Every other event a month earlier: each sink batch spans two table partitions. */
  twoMonths?: boolean
  /** A topic only the sink reads (drill.sideInput), for faults that produce to the sink directly. */
  sinkSideInput?: boolean
  /** A ClickHouse server instead of the embedded one: services reach it at `serviceUrl`, the oracle at `url`. */
  clickhouse?: { url: string; serviceUrl: string }
  /** Dead letters the fault itself causes: the drill waits until these are read too. */
  deadLettersExpected?: (letters: readonly DeadLetterSeen[]) => boolean
}

export type DeadLetterSeen = { key: string; errorClass: string; service: string }

/** Events the fault itself produced (straight to a topic the sink reads): they too must be stored. */
export type FaultEvents = { stored: AcknowledgedEvent[] }

export type DrillResult = {
  drill: PipelineDrill
  clickhouse: DeliveryReport
  forwarded: DeliveryReport
  alerts: DeliveryReport
  storedAlerts: DeliveryReport
  recoverySeconds: number | undefined
  /** Dead letters by source key: the error class each poison record was given. */
  deadLettered: Map<string, string>
  /** Every dead letter, in the order read: source key, class, and the service that wrote it. */
  deadLetters: DeadLetterSeen[]
  poison: { key: string; errorClass: string }[]
}

/**
 * One drill: the main job runs, events (and poison records, spread among them) are produced with
 * their acknowledgements recorded, the fault strikes a third of the way in, and once everything
 * settled the oracle compares what was acknowledged with the ClickHouse view, the forwarded
 * copies and the alerts (delivered and stored). Each stage's numbers go into the fault table.
 */
export async function runDeliveryDrill(options: DrillOptions): Promise<DrillResult> {
  const { kafka } = options
  const drill = await startPipelineDrill(options.stack, options.kafka, options.env, {
    sinkSideInput: options.sinkSideInput ?? false,
    ...(options.clickhouse && { clickhouse: options.clickhouse }),
  })
  const events = drillEvents(options.goodEvents, { twoMonths: options.twoMonths ?? false })
  const poison = poisonMessages(options.poison ?? 0)
  const messages: Message[] = []
  const every = poison.length > 0 ? Math.max(1, Math.floor(events.length / poison.length)) : Infinity
  for (const [i, event] of events.entries()) {
    messages.push(event.message)
    const bad = poison[Math.floor(i / every)]
    if (i % every === every - 1 && bad) messages.push(bad.message)
  }
  const acknowledged: AcknowledgedEvent[] = events.map((event) => event.acknowledged)
  const alerting: AcknowledgedEvent[] = events.filter((e) => e.alerting).map((e) => e.acknowledged)

  const deadLetterReader = await collectTopics(kafka, [drill.deadLetters])
  onTestFinished(() => deadLetterReader.stop())

  let fault: Promise<void | FaultEvents> | undefined
  let faultOverAtMs: number | undefined
  const { inject } = options
  await produceAll(kafka, drill.input, messages, {
    onChunk: (sent) => {
      if (inject && !fault && sent >= messages.length / 3) {
        fault = inject(drill).then((produced) => ((faultOverAtMs = Date.now()), produced))
      }
    },
  })
  const faultEvents = (await fault)?.stored ?? []

  const settleTimeoutMs = options.settleTimeoutMs ?? 180_000
  const expectedIds = new Set(acknowledged.map((event) => event.eventId))
  const expectedAlertIds = new Set(alerting.map((event) => event.eventId))
  await waitFor(
    () => {
      const forwarded = new Set(forwardedEvents(drill).map((e) => e.eventId))
      const alerted = new Set(alertedEvents(drill).map((e) => e.eventId))
      return (
        [...expectedIds].every((id) => forwarded.has(id)) &&
        [...expectedAlertIds].every((id) => alerted.has(id))
      )
    },
    {
      timeoutMs: settleTimeoutMs,
      intervalMs: 250,
      description: 'every event forwarded and every alert delivered',
    },
  ).catch(async (error: unknown) => {
    // Which service is behind, as its own readiness says, what each topic holds, and what was
    // dead-lettered why: the first things to know of a failed drill.
    const letters = new Map<string, number>()
    for (const { service, errorClass } of deadLetterReader.messages.map(seenDeadLetter)) {
      letters.set(`${service} ${errorClass}`, (letters.get(`${service} ${errorClass}`) ?? 0) + 1)
    }
    throw new Error(
      [
        (error as Error).message,
        await readiness(drill),
        `messages: ${JSON.stringify(await topicSizes(kafka, [drill.input, drill.output, drill.deadLetters]))}`,
        `dead letters: ${JSON.stringify(Object.fromEntries(letters))}`,
      ].join('\n'),
      { cause: error },
    )
  })
  const recoverySeconds = faultOverAtMs === undefined ? undefined : (Date.now() - faultOverAtMs) / 1000
  // Every poison record dead-lettered before the sink's commits are checked.
  await waitFor(() => deadLetterReader.messages.length >= poison.length, {
    timeoutMs: settleTimeoutMs,
    description: `${poison.length} dead letters`,
  })
  await waitForSinkToCatchUp(kafka, drill, settleTimeoutMs)
  const { deadLettersExpected } = options
  if (deadLettersExpected) {
    await waitFor(() => deadLettersExpected(deadLetterReader.messages.map(seenDeadLetter)), {
      timeoutMs: settleTimeoutMs,
      description: 'the dead letters the fault causes',
    })
  }
  const forwarded = forwardedEvents(drill)
  const delivered = alertedEvents(drill)
  await stopDrill(drill)

  const deadLettered = new Map<string, string>()
  const deadLetters: DrillResult['deadLetters'] = []
  for (const letter of deadLetterReader.messages.map(seenDeadLetter)) {
    deadLettered.set(letter.key, letter.errorClass)
    deadLetters.push(letter)
  }
  const result = {
    drill,
    clickhouse: recordStage(
      options.fault,
      'ClickHouse view',
      [...acknowledged, ...faultEvents],
      storedEvents(drill),
      recoverySeconds,
    ),
    forwarded: recordStage(options.fault, 'forwarded (webhook)', acknowledged, forwarded),
    alerts: recordStage(options.fault, 'alerts delivered', alerting, delivered),
    storedAlerts: recordStage(options.fault, 'alerts stored', alerting, storedAlerts(drill)),
    recoverySeconds,
    deadLettered,
    deadLetters,
    poison: poison.map((p) => ({ key: String(p.message.key), errorClass: p.errorClass })),
  }
  printFaultTable()
  return result
}

async function topicSizes(kafka: Kafka, topics: readonly string[]): Promise<Record<string, number>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const sizes: Record<string, number> = {}
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic)
      sizes[topic] = offsets.reduce((sum, { high, low }) => sum + Number(high) - Number(low), 0)
    }
    return sizes
  } finally {
    await admin.disconnect()
  }
}

async function readiness(drill: PipelineDrill): Promise<string> {
  const lines: string[] = []
  for (const [name, { opsUrl }] of drill.services) {
    const answer = await fetch(`${opsUrl}/readyz`, { signal: AbortSignal.timeout(2_000) })
      .then((response) => response.text())
      .catch((error: unknown) => String(error))
    lines.push(`${name}: ${answer}`)
  }
  return lines.join('\n')
}

function seenDeadLetter(letter: CollectedMessage): DeadLetterSeen {
  return {
    key: letter.key?.toString() ?? '',
    errorClass: letter.headers?.[deadLetterHeaderNames.errorClass]?.toString() ?? '',
    service: letter.headers?.[deadLetterHeaderNames.service]?.toString() ?? '',
  }
}

/** Waits until the sink's group committed the end of every topic it reads: all it read is stored. */
async function waitForSinkToCatchUp(kafka: Kafka, drill: PipelineDrill, timeoutMs: number): Promise<void> {
  const groupId = drill.env['SINK_GROUP_ID']!
  const topics = drill.env['SINK_INPUT_TOPICS']!.split(',')
  const admin = kafka.admin()
  await admin.connect()
  try {
    await waitFor(
      async () => {
        for (const topic of topics) {
          const ends = await admin.fetchTopicOffsets(topic)
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
          // The alerts topic is written in transactions: its last offset is a commit marker, which
          // no consumer reads, so everything is read once the commit is one short of the end.
          const markers = topic === drill.env['ALERTING_ALERTS_TOPIC'] ? 1n : 0n
          const done = ends.every((end) => {
            if (end.high === '0') return true
            const offset = committed?.partitions.find((p) => p.partition === end.partition)?.offset
            return offset !== undefined && offset !== '-1' && BigInt(offset) >= BigInt(end.high) - markers
          })
          if (!done) return false
        }
        return true
      },
      { timeoutMs, intervalMs: 250, description: 'the sink to commit the end of its topics' },
    )
  } finally {
    await admin.disconnect()
  }
}

/** What every drill must show: nothing lost anywhere, no duplicate an analyst can see, each poison record dead-lettered with its class. */
export function expectNothingLost(result: DrillResult): void {
  expect(result.clickhouse, 'ClickHouse view').toMatchObject({ lost: 0, duplicated: 0 })
  expect(result.forwarded, 'forwarded copies').toMatchObject({ lost: 0 })
  expect(result.alerts, 'alerts delivered').toMatchObject({ lost: 0, unexpected: 0 })
  expect(result.storedAlerts, 'alerts stored').toMatchObject({ lost: 0, duplicated: 0, unexpected: 0 })
  for (const { key, errorClass } of result.poison) {
    expect(result.deadLettered.get(key), `dead letter of ${key}`).toBe(errorClass)
  }
}
