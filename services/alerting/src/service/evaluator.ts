import type { Admin, Kafka, Producer } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import {
  createConsumerRuntime,
  waitForKafka,
  type KafkaRecord,
  type ProcessingStep,
  type RuntimeContext,
} from '@audit-pipeline/kafka'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import type { AlertSource } from '../alerts/alertEvent.js'
import type { AlertingConfig } from '../config.js'
import type { RaisedAlert } from '../delivery/receiverDeliveries.js'
import type { AlertEngine } from '../engine/alertEngine.js'
import type { AlertingMetrics } from '../metrics.js'
import type { RuleSet } from '../rules/parseRules.js'
import { createEvaluatorSteps, sourceOf } from './evaluatorSteps.js'
import { isProducerFenced } from './producerFenced.js'
import { restoreState } from './stateChangelog.js'

export type EvaluatorOptions = {
  config: AlertingConfig
  kafka: Kafka
  codec: AuditEventCodec
  /** The rules at start; a reload replaces them (replaceRules). */
  rules: RuleSet
  /** A new, empty engine for `rules`: one at start and one after every restart, restored from the changelog. */
  createEngine: (rules: RuleSet) => AlertEngine
  metrics: AlertingMetrics
  log: Logger
  source: AlertSource
  now?: () => number
  /**
   * The evaluator must not go on: its consumer failed for longer than KAFKA_OUTAGE_GIVE_UP_MS
   * (never, by default), or another instance took its transactional id. The process should exit.
   */
  onGiveUp?: (error: unknown) => void
  /** Test seam: wraps each transactional producer the evaluator creates (a test fails a transaction). */
  wrapProducer?: (producer: Producer) => Producer
  /** Alerts as they are raised, before their transaction commits: for the receivers to send at once. */
  onRaised?: (alerts: readonly RaisedAlert[]) => void
}

export type Evaluator = {
  /** Joins the group once the state is restored; waits out an unavailable Kafka meanwhile. */
  start(): Promise<void>
  /** New rules take effect between two batches. */
  replaceRules(rules: RuleSet): void
  /** Stops reading; what was evaluated commits in a last transaction, within the deadline. */
  stop(): Promise<void>
  live(): CheckReport
  ready(): CheckReport
}

/**
 * How the evaluator fetches its input: a fetch returns as soon as the broker has an event (no
 * byte floor), since alerts go to the receivers as they are raised and every millisecond a fetch
 * waits is theirs. Under load, fetches grow by themselves: events gather while the last batch is
 * evaluated. `maxWaitTimeInMs` only bounds an idle fetch.
 */
export const evaluatorFetchSettings = { minBytes: 1, maxWaitTimeInMs: 100 } as const

/**
 * Reads events, evaluates the rules, hands each alert to the receivers as it is raised
 * (`onRaised`), and, every commit interval, in one Kafka transaction: produces the alerts, the state
 * changes (to the compacted changelog) and the input offsets (evaluatorSteps.ts). The consumer runtime (packages/kafka) owns the group, lag, outages and
 * restarts. A crash at any point leaves either all of a transaction's effects or none; a failed
 * transaction (a broker down, a coordinator moved) is a step failure: the runtime restarts from
 * the last committed offsets and the steps are built again from what was committed, a new engine
 * restored from the changelog and a new transactional producer (initialising it fences the old
 * one), so the events are evaluated again from the state they started from and yield the same
 * alerts. Only a fenced producer (another instance took the transactional id) stops the
 * evaluator for good: a zombie retrying would fence the new owner in turn.
 */
export function createEvaluator(options: EvaluatorOptions): Evaluator {
  const { config, kafka, codec, metrics, log } = options
  const now = options.now ?? (() => Date.now())
  const admin: Admin = kafka.admin()
  let rulesInForce = options.rules
  let pendingRules: RuleSet | undefined
  /** The current generation: its engine, and what it must hear of a (re)join. */
  let generation: { engine: AlertEngine; joined(): void } | undefined
  /** Which assigned partitions have a backlog, looked up at each join; events wait for it. */
  let assignment: Promise<void> = Promise.resolve()
  let fenced: string | undefined
  let stopping: Promise<void> | undefined
  /** The last generation's producer: disconnected before the next one is made, whatever happened. */
  let lastProducer: Producer | undefined

  const takeRules = () => {
    const rules = pendingRules
    pendingRules = undefined
    if (rules) rulesInForce = rules
    return rules
  }

  const readAssignment = async (
    engine: AlertEngine,
    assigned: Readonly<Record<string, readonly number[]>>,
  ) => {
    const sources: { source: string; caughtUp: boolean }[] = []
    const topics = Object.keys(assigned)
    const committed = await admin.fetchOffsets({ groupId: config.groupId, topics })
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic)
      for (const partition of assigned[topic] ?? []) {
        const end = ends.find((offsets) => offsets.partition === partition)
        const done = committed
          .find((entry) => entry.topic === topic)
          ?.partitions.find((p) => p.partition === partition)
        const high = BigInt(end?.high ?? '0')
        const from =
          done === undefined || done.offset === '-1'
            ? config.startFrom === 'latest'
              ? high
              : BigInt(end?.low ?? '0')
            : BigInt(done.offset)
        sources.push({ source: sourceOf(topic, partition), caughtUp: from >= high })
      }
    }
    engine.assignSources(sources, now())
  }

  /** Another producer took the transactional id: nothing more is committed, and no new producer is made. */
  const fence = (error: unknown) => {
    if (fenced !== undefined) return
    fenced = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    log.error(
      { err: error, transactionalId: config.transactionalId },
      'the transactional id was taken over by another instance (this one is fenced): the evaluator stops and commits nothing more',
    )
    stopping ??= runtime.stop()
    options.onGiveUp?.(error)
  }

  /** One generation: a new engine restored from the changelog, a new producer, new steps. */
  const createSteps = async (context: RuntimeContext): Promise<ProcessingStep<KafkaRecord>> => {
    if (fenced !== undefined) throw new Error(`the evaluator was fenced: ${fenced}`)
    // Closing the old steps disconnects it; a generation that failed to start is not always closed.
    await lastProducer?.disconnect().catch((error: unknown) => log.debug({ err: error }, 'disconnect failed'))
    const rules = takeRules() ?? rulesInForce
    const engine = options.createEngine(rules)
    metrics.rulesLoaded.set(rules.rules.length)
    // A new engine has every rule enabled (a fresh budget, as after a restart).
    metrics.rulesDisabled.reset()
    const created = kafka.producer({
      transactionalId: config.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      // A transaction begun right after the last commit meets CONCURRENT_TRANSACTIONS while the
      // broker writes that commit's markers, for a few ms; kafkajs's default first retry (300 ms)
      // would add that to every alert's latency.
      retry: { initialRetryTime: 10, maxRetryTime: 2_000, retries: 12 },
      allowAutoTopicCreation: false,
    })
    const producer = options.wrapProducer ? options.wrapProducer(created) : created
    lastProducer = producer
    let partitions: { alerts: number; state: number }
    try {
      await producer.connect()
      // Its first transaction initialises the transactional id: the previous producer is fenced
      // and its open transaction aborted before the changelog is read.
      const restored = await restoreState({
        kafka,
        producer,
        topic: config.stateTopic,
        groupId: config.groupId,
        load: (key, value) => engine.restore(key, value),
      })
      log.info({ entries: restored.entries, topic: config.stateTopic }, 'state restored')
      // Read each generation: partitions added to the alerts topic are used after a restart.
      const metadata = await admin.fetchTopicMetadata({ topics: [config.alertsTopic] })
      partitions = { alerts: metadata.topics[0]?.partitions.length ?? 1, state: restored.partitions }
    } catch (error) {
      await producer
        .disconnect()
        .catch((disconnectError: unknown) => log.debug({ err: disconnectError }, 'disconnect failed'))
      if (isProducerFenced(error)) fence(error)
      throw error
    }
    const { steps, joined } = createEvaluatorSteps(
      {
        engine,
        producer,
        codec,
        topics: { alerts: config.alertsTopic, state: config.stateTopic, deadLetters: config.deadLetterTopic },
        partitions,
        groupId: config.groupId,
        commitIntervalMs: config.commitIntervalMs,
        pauseMs: config.sessionTimeoutMs,
        source: options.source,
        metrics,
        log,
        now,
        assignment: () => assignment,
        takeRules,
        onFenced: fence,
        ...(options.onRaised && { onRaised: options.onRaised }),
      },
      context,
    )
    generation = { engine, joined }
    return {
      ...steps,
      async close() {
        await steps.close()
        await producer.disconnect().catch((error: unknown) => log.warn({ err: error }, 'disconnect failed'))
      },
    }
  }

  const runtime = createConsumerRuntime({
    kafka,
    log,
    metrics: metrics.consumer,
    group: {
      groupId: config.groupId,
      readUncommitted: false,
      sessionTimeout: config.sessionTimeoutMs,
      ...evaluatorFetchSettings,
      // One engine, one transaction at a time (the runtime hands the steps one call at a time anyway).
      partitionsConsumedConcurrently: 1,
    },
    subscription: { topics: [...config.inputTopics], fromBeginning: config.startFrom === 'earliest' },
    requiredTopics: {
      topics: [...config.inputTopics],
      settings: 'ALERTING_INPUT_TOPICS',
    },
    outage: config.consumer.outage,
    deadLetterGuard: config.consumer.deadLetterGuard,
    stopDeadlineMs: config.shutdownDeadlineMs,
    // The steps' poll starts the transaction that is due: when input pauses, what was read still
    // commits after the interval.
    pollIntervalMs: Math.max(5, Math.floor(config.commitIntervalMs / 2)),
    ...(options.onGiveUp && { onGiveUp: options.onGiveUp }),
    onAssigned(assigned) {
      const current = generation
      if (!current) return
      current.joined()
      assignment = readAssignment(current.engine, assigned).catch((error: unknown) => {
        // Without it every partition counts as behind until read: time waits for all, nothing is lost.
        log.warn(
          { err: error },
          'could not read the partitions’ backlog; event time waits for every partition',
        )
      })
    },
    createSteps,
  })

  return {
    async start() {
      await waitForKafka('connect', () => admin.connect(), { log, outage: config.consumer.outage })
      await runtime.start()
    },
    replaceRules(rules) {
      pendingRules = rules
    },
    async stop() {
      await (stopping ??= runtime.stop())
      await admin.disconnect()
    },
    live: () =>
      fenced !== undefined ? { ok: false, details: { fenced: true, lastError: fenced } } : runtime.live(),
    ready: () => runtime.ready(),
  }
}
