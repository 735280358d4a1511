import type { Consumer, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs'
import { CodecError, type AuditEventCodec } from '@audit-pipeline/codec'
import { buildDeadLetter } from '@audit-pipeline/dead-letter'
import { retryWithBackoff, type CheckReport, type Logger } from '@audit-pipeline/service-runtime'
import { alertEvent, groupingOf, type AlertSource } from '../alerts/alertEvent.js'
import type { AlertNotice } from '../alerts/alertNotice.js'
import type { AlertingConfig } from '../config.js'
import type { AlertEngine } from '../engine/alertEngine.js'
import type { AlertingMetrics } from '../metrics.js'
import type { RuleSet } from '../rules/parseRules.js'
import type { StateChange } from '../engine/trackedStore.js'
import { produceRounds } from './messageChunks.js'
import { changelogMessage, restoreState } from './stateChangelog.js'

export type EvaluatorOptions = {
  config: AlertingConfig
  kafka: Kafka
  codec: AuditEventCodec
  engine: AlertEngine
  metrics: AlertingMetrics
  log: Logger
  source: AlertSource
  now?: () => number
  /** A transaction failed: memory is ahead of what was committed, so the process must restart. */
  onFatal?: (error: unknown) => void
}

/**
 * Reads events, evaluates the rules and, every commit interval, in one Kafka transaction: produces
 * the alerts, the state changes (to the compacted changelog) and the input offsets. A crash at any
 * point leaves either all of a batch's effects or none; on start the state is restored from the
 * changelog, so the batch is evaluated again from the same state and yields the same alerts.
 */
export function createEvaluator(options: EvaluatorOptions) {
  const { config, kafka, codec, engine, metrics, log } = options
  const now = options.now ?? (() => Date.now())
  const state = {
    restoring: true,
    joined: false,
    crashed: undefined as string | undefined,
    failed: undefined as string | undefined,
  }
  let pendingRules: RuleSet | undefined
  let stopping = false
  const stopped = new AbortController()

  const producer: Producer = kafka.producer({
    transactionalId: config.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    // A transaction begun right after the last commit meets CONCURRENT_TRANSACTIONS while the
    // broker writes that commit's markers, for a few ms; kafkajs's default first retry (300 ms)
    // would add that to every alert's latency.
    retry: { initialRetryTime: 10, maxRetryTime: 2_000, retries: 12 },
    allowAutoTopicCreation: false,
  })
  const consumer: Consumer = kafka.consumer({
    groupId: config.groupId,
    readUncommitted: false,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.floor(config.sessionTimeoutMs / 10),
    // Reading no longer waits for commits, so without a floor it would fetch a handful of events
    // at a time: many small requests that load the broker and the event loop alike.
    minBytes: 64 * 1024,
    maxWaitTimeInMs: 20,
    allowAutoTopicCreation: false,
  })
  const admin = kafka.admin()
  /** Which assigned partitions have a backlog, looked up at each join; batches wait for it. */
  let assignment: Promise<void> = Promise.resolve()
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    state.joined = true
    assignment = readAssignment(payload.memberAssignment).catch((error: unknown) => {
      // Without it every partition counts as behind until read: time waits for all, nothing is lost.
      log.warn({ err: error }, 'could not read the partitions’ backlog; event time waits for every partition')
    })
  })
  consumer.on(consumer.events.REBALANCING, () => (state.joined = false))
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    state.joined = false
    log.error({ err: payload.error, restart: payload.restart }, 'evaluator consumer crashed')
    if (!payload.restart) state.crashed = payload.error.message
  })

  const readAssignment = async (assigned: Record<string, number[]>) => {
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

  const decode = (value: Buffer | null) => {
    if (value === null)
      throw new CodecError('EVENT_UNDECODABLE', 'a null value (tombstone) holds no event', false)
    return retryWithBackoff(() => codec.decode(value), {
      isRetriable: (error) => error instanceof CodecError && error.retriable && !stopped.signal.aborted,
      policy: { initialDelayMs: 100, maxDelayMs: 5_000, multiplier: 2 },
      signal: stopped.signal,
    })
  }

  const alertMessages = (notices: AlertNotice[]): Message[] => {
    const groupings = groupingOf(notices)
    const recordedAt = now()
    return notices.map((notice, index) => ({
      // One group's raised and resolved notices stay in order on one partition.
      key: `${notice.ruleId}\u0000${notice.tenant}\u0000${notice.groupKey}`,
      value: codec.encode(
        alertEvent(
          notice,
          options.source,
          recordedAt,
          groupings[index] ?? { groupId: notice.alertId, groupSize: 1 },
        ),
      ),
      headers: { 'audit-alert-id': notice.alertId, 'audit-alert-status': notice.status },
    }))
  }

  /**
   * What was evaluated since the last snapshot: its alerts and dead letters, and the next offset
   * per partition. The engine's state changes are drained when the snapshot is taken, in the same
   * synchronous step, so a transaction holds exactly the effects of the offsets it commits.
   */
  type Pending = {
    startedAt: number
    evaluated: number
    offsets: Map<string, { topic: string; partition: number; offset: string }>
    notices: AlertNotice[]
    deadLetters: Message[]
  }
  const emptyPending = (): Pending => ({
    startedAt: performance.now(),
    evaluated: 0,
    offsets: new Map(),
    notices: [],
    deadLetters: [],
  })
  let pending = emptyPending()
  /** The transactions taken and not yet committed, in order; at most one runs at a time. */
  let transactions: Promise<void> = Promise.resolve()
  let inFlight = 0

  /**
   * Ends what was evaluated so far as one transaction's content and queues the transaction. Never
   * awaited by the reading loop: while one transaction commits, the next batches are evaluated,
   * so a commit's round trips no longer hold back fetching (which let backlogs, and so latency,
   * grow in bursts).
   */
  const snapshotAndCommit = (): Promise<void> => {
    if (pending.offsets.size === 0) return transactions
    const snapshot = { ...pending, changes: engine.drainStateChanges() }
    pending = emptyPending()
    inFlight++
    transactions = transactions.then(() => commit(snapshot)).finally(() => inFlight--)
    return transactions
  }
  /** Starts the next transaction once the interval passed and none is running; errors end the process. */
  const commitWhenDue = () => {
    if (inFlight > 0 || state.failed !== undefined || pending.offsets.size === 0) return
    if (performance.now() - pending.startedAt < config.commitIntervalMs) return
    snapshotAndCommit().then(commitWhenDue, () => undefined)
  }

  const eachBatch = async (payload: EachBatchPayload) => {
    const { batch } = payload
    await assignment
    if (state.failed !== undefined) throw new Error(`a transaction failed: ${state.failed}`)
    // Reading runs ahead of committing by a bounded amount only.
    if (pending.evaluated >= maxEvaluatedAhead) await transactions.catch(() => undefined)
    const source = sourceOf(batch.topic, batch.partition)
    if (pendingRules) {
      // State changes so far belong to the old rules' transaction.
      void snapshotAndCommit().catch(() => undefined)
      engine.replaceRules(pendingRules)
      metrics.rulesLoaded.set(pendingRules.rules.length)
      pendingRules = undefined
    }
    let last: string | undefined
    for (const message of batch.messages) {
      if (stopping || !payload.isRunning() || payload.isStale()) break
      try {
        const event = await decode(message.value)
        pending.notices.push(...engine.evaluate(event, { source, nowMs: now() }))
      } catch (error) {
        if (!(error instanceof CodecError) || error.retriable) throw error
        metrics.eventsUndecodable.inc({ reason: error.code })
        pending.deadLetters.push(
          buildDeadLetter({
            source: {
              topic: batch.topic,
              partition: batch.partition,
              offset: message.offset,
              key: message.key,
              value: message.value,
              ...(message.headers && { headers: message.headers }),
              timestamp: message.timestamp,
            },
            error: { errorClass: error.code, message: error.message },
            service: 'alerting',
            now: new Date(now()),
          }),
        )
      }
      // No await between the evaluation and this: a snapshot never splits an event from its offset.
      last = message.offset
      pending.evaluated++
      pending.offsets.set(source, {
        topic: batch.topic,
        partition: batch.partition,
        offset: String(BigInt(message.offset) + 1n),
      })
    }
    if (last === undefined) return
    engine.sourceReadTo(source, BigInt(last) + 1n >= BigInt(batch.highWatermark), now())
    payload.resolveOffset(last)
    commitWhenDue()
  }

  /**
   * One transaction for a snapshot (all partitions, several batches): alerts, state changes, dead
   * letters, offsets. A failure leaves memory ahead of what was committed: the process must restart.
   */
  const commit = async (snapshot: Pending & { changes: StateChange[] }) => {
    const started = performance.now()
    const topicMessages = [
      { topic: config.alertsTopic, messages: alertMessages(snapshot.notices) },
      { topic: config.stateTopic, messages: snapshot.changes.map(changelogMessage) },
      { topic: config.deadLetterTopic, messages: snapshot.deadLetters },
    ].filter((entry) => entry.messages.length > 0)
    const byTopic = new Map<string, { partition: number; offset: string }[]>()
    for (const { topic, partition, offset } of snapshot.offsets.values()) {
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset }])
    }
    const transaction = await producer.transaction()
    try {
      for (const round of produceRounds(topicMessages, maxProduceBytes)) {
        await transaction.sendBatch({ acks: -1, topicMessages: round })
      }
      await transaction.sendOffsets({
        consumerGroupId: config.groupId,
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      })
      await transaction.commit()
    } catch (error) {
      await transaction
        .abort()
        .catch((abortError: unknown) => log.warn({ err: abortError }, 'aborting the transaction failed'))
      state.failed = error instanceof Error ? error.message : String(error)
      log.fatal({ err: error }, 'a transaction failed; restarting from the committed state')
      options.onFatal?.(error)
      throw error
    }
    metrics.transactionSeconds.observe((performance.now() - started) / 1000)
    report(snapshot.notices)
    log.debug(
      {
        offsets: [...snapshot.offsets.values()],
        alerts: snapshot.notices.length,
        stateChanges: snapshot.changes.length,
      },
      'transaction committed',
    )
    if (snapshot.notices.length > 0) {
      log.info(
        {
          alerts: snapshot.notices.map((notice) => ({
            id: notice.alertId,
            rule: notice.ruleId,
            status: notice.status,
          })),
        },
        'alerts produced',
      )
    }
  }
  // When input pauses, what was read still commits after the interval.
  const commitTimer = setInterval(commitWhenDue, Math.max(5, Math.floor(config.commitIntervalMs / 2))).unref()

  /** One telemetry step per batch: counters from the engine into metrics. */
  const report = (notices: AlertNotice[]) => {
    const { engine: counts, rules } = engine.takeCounters()
    metrics.eventsEvaluated.inc(counts.evaluated)
    metrics.eventsLate.inc(counts.late)
    metrics.eventsOutOfOrder.inc(counts.outOfOrder)
    for (const { ruleId, counters } of rules) {
      if (counters.matches > 0) metrics.ruleMatches.inc({ rule: ruleId }, counters.matches)
      if (counters.suppressed > 0) metrics.alertsSuppressed.inc({ rule: ruleId }, counters.suppressed)
      if (counters.expressionErrors > 0)
        metrics.expressionErrors.inc({ rule: ruleId }, counters.expressionErrors)
    }
    for (const notice of notices) metrics.alerts.inc({ rule: notice.ruleId, status: notice.status })
    for (const { store, entries } of engine.stateSizes()) metrics.stateEntries.set({ store }, entries)
  }

  return {
    async start() {
      await producer.connect()
      await admin.connect()
      const restored = await restoreState({
        kafka,
        producer,
        topic: config.stateTopic,
        groupId: config.groupId,
        load: (key, value) => engine.restore(key, value),
      })
      state.restoring = false
      log.info({ entries: restored.entries, topic: config.stateTopic }, 'state restored')
      metrics.rulesLoaded.set(engine.rules().length)
      await consumer.connect()
      await consumer.subscribe({
        topics: [...config.inputTopics],
        fromBeginning: config.startFrom === 'earliest',
      })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // One engine, one transaction at a time.
        partitionsConsumedConcurrently: 1,
        eachBatch,
      })
    },
    /** New rules take effect from the next batch on. */
    replaceRules(rules: RuleSet) {
      pendingRules = rules
    },
    async stop() {
      stopping = true
      // consumer.stop() waits for the batch in hand; then what is queued and the rest commit.
      await consumer.stop()
      clearInterval(commitTimer)
      await transactions
        .catch(() => undefined)
        .then(snapshotAndCommit)
        .catch((error: unknown) => log.error({ err: error }, 'the last commit failed'))
      stopped.abort()
      await consumer.disconnect()
      await producer.disconnect()
      await admin.disconnect()
    },
    live: (): CheckReport =>
      state.failed !== undefined
        ? { ok: false, details: { transactionFailed: state.failed } }
        : state.crashed !== undefined
          ? { ok: false, details: { crashed: state.crashed } }
          : { ok: true },
    ready: (): CheckReport =>
      state.restoring
        ? { ok: false, details: { restoring: true } }
        : state.joined
          ? { ok: true }
          : { ok: false, details: { joined: false } },
  }
}

export type Evaluator = ReturnType<typeof createEvaluator>

const sourceOf = (topic: string, partition: number) => `${topic}:${partition}`

/**
 * Events evaluated but not yet in a transaction beyond which reading waits for the running
 * commit: bounds memory and the next transaction's size after a backlog.
 */
const maxEvaluatedAhead = 5_000
/** Per topic per produce request; half the broker's default `message.max.bytes`. */
const maxProduceBytes = 512 * 1024
