import type { Message, Producer, Transaction } from 'kafkajs'
import { CodecError, type AuditEventCodec } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import {
  mergeCommittable,
  recordDeadLetter,
  runTask,
  type KafkaRecord,
  type PartitionOffset,
  type Processed,
  type ProcessingStep,
  type RecordFailure,
  type RuntimeContext,
  registryOutage,
} from '@audit-pipeline/kafka'
import type { Logger } from '@audit-pipeline/service-runtime'
import { groupingOf, type AlertPayload, type AlertSource } from '../alerts/alertEvent.js'
import type { AlertNotice } from '../alerts/alertNotice.js'
import type { RaisedAlert } from '../delivery/receiverDeliveries.js'
import type { AlertEngine } from '../engine/alertEngine.js'
import { evaluateRecord, type DeadLetterCause, type RecordOutcome } from '../engine/evaluateRecord.js'
import type { StateChange } from '../engine/trackedStore.js'
import type { AlertingMetrics } from '../metrics.js'
import type { RuleSet } from '../rules/parseRules.js'
import { alertMessages, alertPartitioner, type PlacedAlert } from './alertMessages.js'
import { produceRounds } from './messageChunks.js'
import { isProducerFenced } from './producerFenced.js'
import { changelogMessage } from './stateChangelog.js'
import { transactionReport } from './transactionReport.js'

export type EvaluatorStepsOptions = {
  /** This generation's engine, restored from the changelog: its state is that of the last commit. */
  engine: AlertEngine
  /** This generation's transactional producer, initialised (the previous one fenced). */
  producer: Pick<Producer, 'transaction'>
  codec: Pick<AuditEventCodec, 'decode' | 'encode'>
  topics: { alerts: string; state: string; deadLetters: string }
  /** The partitions of the alerts topic and of the state topic, as this generation found them. */
  partitions: { alerts: number; state: number }
  /** The evaluator's consumer group: the input offsets are committed under it, in the transaction. */
  groupId: string
  commitIntervalMs: number
  /**
   * A gap this long between two calls (the process was paused: SIGSTOP, a frozen VM) sends no
   * alert at once until a transaction commits again: meanwhile another instance may have taken
   * over, and a paused instance must not send what the new owner writes otherwise. The consumer
   * session timeout.
   */
  pauseMs: number
  source: AlertSource
  metrics: AlertingMetrics
  log: Logger
  now: () => number
  /** Resolves once the partitions' backlog (after the last join) is known; events wait for it. */
  assignment: () => Promise<void>
  /** Rules a reload (SIGHUP) asked for since the last call, or undefined; applied between batches. */
  takeRules: () => RuleSet | undefined
  /** A transaction was refused because another producer took the transactional id. */
  onFenced: (error: unknown) => void
  /**
   * Alerts as they are raised, before their transaction: for the receivers to send at once
   * (delivery/receiverDeliveries.ts). Called at the end of each fetched batch (and before each
   * transaction) with what was raised since, grouped as the topic's copies are; must not throw.
   */
  onRaised?: (alerts: readonly RaisedAlert[]) => void
}

export type EvaluatorSteps = {
  readonly steps: ProcessingStep<KafkaRecord>
  /** The consumer (re)joined its group: after the first join, memory may be ahead of the commit. */
  readonly joined: () => void
}

/**
 * Events evaluated but not yet in a transaction beyond which reading waits for the running
 * commit: bounds memory and the next transaction's size after a backlog. Alerts go to receivers
 * as they are raised, so a slow commit must not stop evaluating: at 5,000 events/s this is ten
 * seconds of commits. (An event held costs its offset and alerts; state changes are per entry.)
 */
const maxEvaluatedAhead = 50_000
/** Dead letters (copies of their messages) held for the next transaction beyond which reading waits too, bytes. */
const maxDeadLetterBytesAhead = 32 * 1024 * 1024
/**
 * How long alerts raised in a fetched batch wait for the rest of it (to be grouped with the
 * alerts it raises too) before they go to the receivers anyway, ms.
 */
const maxRaisedWaitMs = 5
/**
 * Per topic per produce request, well under the broker's default `message.max.bytes`: kafkajs
 * encodes a request in one go, and a small one keeps the evaluator (whose alerts go out at once)
 * from being held for long by a transaction's encoding. A larger state entry goes alone.
 */
const maxProduceBytes = 64 * 1024

/**
 * What was evaluated since the last snapshot: its alerts and dead letters, and the next offset
 * per partition. The engine's state changes are drained when the snapshot is taken, in the same
 * synchronous step, so a transaction holds exactly the effects of the offsets it commits.
 */
type Pending = {
  startedAt: number
  evaluated: number
  offsets: Map<string, PartitionOffset>
  alerts: PlacedAlert[]
  deadLetters: Message[]
  deadLetterBytes: number
  /** The dead letters' error classes, counted once their transaction committed. */
  deadLetterClasses: string[]
}

/**
 * The evaluator's steps on the consumer runtime, one generation of them (a restart builds new
 * ones, with a new engine and producer): decode each record (isolated; registry outages waited
 * out through the runtime) → evaluate it as one unit (engine/evaluateRecord.ts: its alerts or its
 * dead letter) → every commit interval, one Kafka transaction with the alerts, the state changes,
 * the dead letters and the input offsets (`sendOffsets`: the runtime's commit is not used).
 *
 * Transactions run behind reading, one at a time, up to `maxEvaluatedAhead` events behind. One
 * that fails leaves memory ahead of what was committed: nothing after it is committed, and the
 * failure reaches the runtime at the next call, which restarts from the last commit with a fresh
 * engine restored from the changelog. A producer that was fenced calls `onFenced` instead: the
 * evaluator stops for good.
 */
export function createEvaluatorSteps(
  options: EvaluatorStepsOptions,
  context: RuntimeContext,
): EvaluatorSteps {
  const { engine, codec, metrics, log, now, topics } = options
  /** The first transaction failure, sticky: memory is ahead of the commit from then on. */
  let failure: Error | undefined
  /** Set when the group was joined again with work not committed: the offsets went back. */
  let diverged: Error | undefined
  let joins = 0
  let pending = emptyPending()
  /** Raised since the last cut (the end of a fetched batch, or a transaction taken), and since when. */
  let raised: AlertNotice[] = []
  let raisedSince = 0
  /** When the runtime last called; a long gap means the process was paused. */
  let lastCallAt = performance.now()
  /** Set after a pause: alerts wait for their commit, until a transaction commits again. */
  let resumedAfterPause = false
  const noticePause = () => {
    const at = performance.now()
    if (at - lastCallAt >= options.pauseMs && !resumedAfterPause) {
      resumedAfterPause = true
      log.warn(
        { pausedMs: Math.round(at - lastCallAt) },
        'the evaluator was paused: alerts go to receivers after their commit until a transaction commits',
      )
    }
    lastCallAt = at
  }
  /** The transactions taken and not yet committed, in order; at most one runs at a time. */
  let transactions: Promise<void> = Promise.resolve()
  let inFlight = 0

  /** Throws what keeps this generation from going on; the runtime restarts (or, fenced, has stopped). */
  const check = () => {
    if (failure !== undefined) throw failure
    if (diverged) throw diverged
  }

  const decode = async (record: KafkaRecord): Promise<AuditEvent> => {
    const { value } = record
    if (value === null) {
      throw new CodecError('EVENT_UNDECODABLE', 'a null value (tombstone) holds no event', false)
    }
    return context.whileUnavailable(registryOutage, () => codec.decode(value))
  }

  const alerts = alertMessages(codec, options.source, now)
  const partitionOf = alertPartitioner(topics.alerts, options.partitions.alerts)
  // A changelog of one partition (as the service creates it) has each message say so: the
  // producer would otherwise hash every key of every state change to find partition 0.
  const stateMessage =
    options.partitions.state === 1
      ? (change: StateChange): Message => ({ ...changelogMessage(change), partition: 0 })
      : changelogMessage
  const report = transactionReport(engine, metrics, log, context)
  const checkNotices = (notices: readonly AlertNotice[]) => alerts.check(notices)

  const deadLetterOf = (record: KafkaRecord, outcome: RecordOutcome & { kind: 'dead-letter' }): Message => {
    const { cause } = outcome
    const where = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      errorClass: cause.errorClass,
    }
    if (cause.errorClass === 'RECORD_FAILED') {
      // A bug or an input no check foresaw: an operator should look. Never the event's body.
      log.error(
        {
          ...where,
          reason: cause.reason,
          ...(outcome.error === undefined ? { problem: cause.message } : { err: outcome.error }),
        },
        'handling an event failed: dead-lettered as RECORD_FAILED so the partition goes on',
      )
    } else if (cause.errorClass === 'EVENT_TOO_DEEP') {
      log.warn({ ...where, problem: cause.message }, 'event dead-lettered: its JSON nests too deep')
    }
    return recordDeadLetter(record, cause, 'alerting', new Date(now()))
  }

  const raisedAlert = (alert: PlacedAlert, raisedAtMs: number, atOnce: boolean): RaisedAlert => {
    const { notice } = alert
    let payload: AlertPayload | undefined
    return {
      alertId: notice.alertId,
      routing: {
        rule: notice.ruleId,
        tenant: notice.tenant,
        severity: notice.severity,
        status: notice.status,
      },
      partition: alert.partition,
      raisedAtMs,
      atOnce,
      payload: () => (payload ??= alerts.payloadOf(alert)),
    }
  }

  /**
   * The alerts raised since the last cut become the pending transaction's, grouped (alerts of one
   * rule raised together share a group) and placed in their partition, and go to the receivers
   * at once. Grouping and partition are fixed here, so the copy a receiver gets now and the one
   * the transaction writes are the same alert.
   */
  const cut = () => {
    if (raised.length === 0) return
    const notices = raised
    raised = []
    const groupings = groupingOf(notices)
    const placed = notices.map((notice, index) => ({
      notice,
      grouping: groupings[index] ?? { groupId: notice.alertId, groupSize: 1 },
      partition: partitionOf(notice),
    }))
    pending.alerts.push(...placed)
    if (!options.onRaised) return
    try {
      const raisedAtMs = now()
      const atOnce = !resumedAfterPause
      options.onRaised(placed.map((alert) => raisedAlert(alert, raisedAtMs, atOnce)))
    } catch (error) {
      // A bug on the way to the receivers: they still get the alerts after the commit.
      log.error({ err: error }, 'handing alerts to the receivers at once failed; they go after the commit')
    }
  }

  /**
   * Ends what was evaluated so far as one transaction's content and queues the transaction. Not
   * awaited by reading: while one transaction commits, the next events are evaluated.
   */
  const snapshotAndCommit = (): Promise<void> => {
    if (pending.offsets.size === 0 || failure !== undefined) return transactions
    cut()
    const snapshot = { ...pending, changes: engine.drainStateChanges() }
    pending = emptyPending()
    inFlight++
    transactions = transactions.then(() => commit(snapshot)).finally(() => inFlight--)
    // A failure is kept in `failure` and thrown by the next call the runtime makes.
    transactions.catch(() => undefined)
    return transactions
  }
  /** Starts the next transaction once the interval passed and none is running. */
  const commitWhenDue = () => {
    if (inFlight > 0 || failure !== undefined || pending.offsets.size === 0) return
    if (performance.now() - pending.startedAt < options.commitIntervalMs) return
    void snapshotAndCommit()
  }

  /** Between batches: rules a reload asked for. What was evaluated so far commits under the old rules. */
  const applyRules = () => {
    const rules = options.takeRules()
    if (!rules) return
    void snapshotAndCommit()
    engine.replaceRules(rules)
    metrics.rulesLoaded.set(rules.rules.length)
  }

  /**
   * One transaction for a snapshot (all partitions, several fetches): alerts, state changes, dead
   * letters, offsets. A failure is this generation's end: memory is ahead of what was committed.
   */
  const commit = async (snapshot: Pending & { changes: StateChange[] }) => {
    const started = performance.now()
    const byTopic = new Map<string, { partition: number; offset: string }[]>()
    for (const { topic, partition, offset } of snapshot.offsets.values()) {
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset }])
    }
    let transaction: Transaction | undefined
    try {
      // Every event's alerts and state were checked when it was evaluated; should building the
      // messages throw anyway, it is a failed transaction like any other (below).
      const topicMessages = [
        { topic: topics.alerts, messages: alerts.messagesOf(snapshot.alerts) },
        { topic: topics.state, messages: snapshot.changes.map(stateMessage) },
        { topic: topics.deadLetters, messages: snapshot.deadLetters },
      ].filter((entry) => entry.messages.length > 0)
      transaction = await options.producer.transaction()
      for (const round of produceRounds(topicMessages, maxProduceBytes)) {
        await transaction.sendBatch({ acks: -1, topicMessages: round })
      }
      await transaction.sendOffsets({
        consumerGroupId: options.groupId,
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      })
      await transaction.commit()
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error))
      if (isProducerFenced(error)) {
        // Before any await: the runtime must stop, not restart into a producer that would fence
        // the new owner in turn. (Its abort would be refused too; the new owner aborts it.)
        options.onFenced(error)
      } else {
        // Its alerts (and those raised since) went to receivers at once: evaluated again, the
        // events raise them again with the same ids, unless they decide otherwise (README).
        const notCommitted = [...snapshot.alerts, ...pending.alerts].map(({ notice }) => notice.alertId)
        log.warn(
          {
            err: error,
            alerts: snapshot.alerts.length,
            offsets: [...snapshot.offsets.values()],
            alertsNotCommitted: notCommitted.length,
            alertIdsNotCommitted: notCommitted.slice(0, 100),
          },
          'a transaction failed: restarting from the last commit, with the state restored from the changelog',
        )
        // Aborted here or, if the broker cannot be reached, by the next producer's initialisation.
        await transaction
          ?.abort()
          .catch((abortError: unknown) => log.warn({ err: abortError }, 'aborting the transaction failed'))
      }
      throw error
    }
    // Progress for the runtime: its give-up clock and restart backoff start again.
    context.committedElsewhere()
    // Still the owner of the transactional id: alerts go at once again.
    resumedAfterPause = false
    metrics.transactionSeconds.observe((performance.now() - started) / 1000)
    report({
      notices: snapshot.alerts.map(({ notice }) => notice),
      deadLetterClasses: snapshot.deadLetterClasses,
    })
    log.debug(
      {
        offsets: [...snapshot.offsets.values()],
        alerts: snapshot.alerts.length,
        stateChanges: snapshot.changes.length,
      },
      'transaction committed',
    )
    if (snapshot.alerts.length > 0) {
      log.info(
        {
          alerts: snapshot.alerts.map(({ notice }) => ({
            id: notice.alertId,
            rule: notice.ruleId,
            status: notice.status,
          })),
        },
        'alerts produced',
      )
    }
  }

  /**
   * The engine's alerts about the pipeline (a rule the time budget disabled: the operator must
   * act, its alerts stopped), logged and checked as an event's are; one that cannot be encoded (a
   * bug) is logged and left out rather than fail the transaction.
   */
  const checkedPipelineAlerts = (notices: readonly AlertNotice[]): AlertNotice[] =>
    notices.filter((notice) => {
      log.error(
        { rule: notice.groupKey, alert: notice.ruleId, alertId: notice.alertId, figures: notice.figures },
        `${notice.description}; it runs again after a rules reload (SIGHUP) or a restart`,
      )
      try {
        checkNotices([notice])
        return true
      } catch (error) {
        log.error({ err: error, alertId: notice.alertId }, 'the pipeline alert cannot be encoded: not sent')
        return false
      }
    })

  const evaluate: ProcessingStep<Processed<KafkaRecord, AuditEvent>> = {
    async submit({ payload: { input: record, outcome }, committable }) {
      check()
      noticePause()
      await options.assignment()
      const source = sourceOf(record.topic, record.partition)
      // Whatever the event does, the outcome is its alerts or its dead letter: never a throw.
      const result: RecordOutcome = outcome.ok
        ? evaluateRecord(outcome.value, { engine, from: { source, nowMs: now() }, checkNotices })
        : { kind: 'dead-letter', cause: deadLetterCause(outcome.failure) }
      if (result.kind === 'evaluated') {
        if (raised.length === 0 && result.notices.length > 0) raisedSince = performance.now()
        raised.push(...result.notices)
      } else {
        pending.deadLetters.push(deadLetterOf(record, result))
        pending.deadLetterBytes += (record.value?.length ?? 0) + (record.key?.length ?? 0)
        pending.deadLetterClasses.push(result.cause.errorClass)
      }
      const aboutPipeline = engine.takePipelineAlerts()
      if (aboutPipeline.length > 0) {
        if (raised.length === 0) raisedSince = performance.now()
        raised.push(...checkedPipelineAlerts(aboutPipeline))
      }
      if (record.highWatermark !== undefined) {
        // Read to its end once the record is the last the broker had when it was fetched.
        engine.sourceReadTo(source, BigInt(record.offset) + 1n >= BigInt(record.highWatermark), now())
      }
      // No await between the evaluation and this: a snapshot never splits an event from its offset.
      mergeCommittable(pending.offsets, committable)
      pending.evaluated++
      // A large fetched batch (a backlog) does not hold its first alerts back until its end.
      if (raised.length > 0 && performance.now() - raisedSince >= maxRaisedWaitMs) cut()
      if (pending.evaluated >= maxEvaluatedAhead || pending.deadLetterBytes >= maxDeadLetterBytesAhead) {
        // Reading runs ahead of committing by a bounded amount only.
        await transactions.catch(() => undefined)
        check()
        void snapshotAndCommit()
      } else {
        commitWhenDue()
      }
    },
    poll() {
      const blocked = failure ?? diverged
      if (blocked) return Promise.reject(blocked)
      noticePause()
      // The end of a fetched batch (or a quiet interval): what it raised goes to the receivers now.
      cut()
      applyRules()
      commitWhenDue()
      return Promise.resolve()
    },
    async join() {
      // Fenced: nothing more may be committed, and stopping is all there is to do.
      if (failure !== undefined && isProducerFenced(failure)) return
      // Failed: nothing more is committed; what was read is read again after the restart.
      check()
      await snapshotAndCommit()
    },
    async close() {
      await transactions.catch(() => undefined)
    },
  }

  return {
    steps: runTask(decode, evaluate),
    joined: () => {
      joins++
      // kafkajs rejoins by itself after a rebalance or a lost broker, and every member then reads
      // from the group's committed offsets: what this engine evaluated and did not commit (or is
      // committing) would be evaluated twice. A new generation restores the committed state.
      if (joins > 1 && (inFlight > 0 || pending.offsets.size > 0) && failure === undefined) {
        diverged = new Error('the consumer group was joined again with evaluated events not yet committed')
      }
    },
  }
}

const emptyPending = (): Pending => ({
  startedAt: performance.now(),
  evaluated: 0,
  offsets: new Map(),
  alerts: [],
  deadLetters: [],
  deadLetterBytes: 0,
  deadLetterClasses: [],
})

export const sourceOf = (topic: string, partition: number) => `${topic}:${partition}`

/** A record the runtime isolated (it did not decode, or decoding threw): its dead letter's cause. */
function deadLetterCause(failure: RecordFailure): DeadLetterCause {
  return {
    errorClass: failure.errorClass,
    ...(failure.reason !== undefined && { reason: failure.reason }),
    message: failure.message,
  }
}
