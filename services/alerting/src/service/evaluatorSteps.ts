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
import type { AlertSource } from '../alerts/alertEvent.js'
import type { AlertNotice } from '../alerts/alertNotice.js'
import type { AlertEngine } from '../engine/alertEngine.js'
import { evaluateRecord, type DeadLetterCause, type RecordOutcome } from '../engine/evaluateRecord.js'
import type { StateChange } from '../engine/trackedStore.js'
import type { AlertingMetrics } from '../metrics.js'
import type { RuleSet } from '../rules/parseRules.js'
import { alertMessages } from './alertMessages.js'
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
  /** The evaluator's consumer group: the input offsets are committed under it, in the transaction. */
  groupId: string
  commitIntervalMs: number
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
}

export type EvaluatorSteps = {
  readonly steps: ProcessingStep<KafkaRecord>
  /** The consumer (re)joined its group: after the first join, memory may be ahead of the commit. */
  readonly joined: () => void
}

/**
 * Events evaluated but not yet in a transaction beyond which reading waits for the running
 * commit: bounds memory and the next transaction's size after a backlog.
 */
const maxEvaluatedAhead = 5_000
/** Per topic per produce request; half the broker's default `message.max.bytes`. */
const maxProduceBytes = 512 * 1024

/**
 * What was evaluated since the last snapshot: its alerts and dead letters, and the next offset
 * per partition. The engine's state changes are drained when the snapshot is taken, in the same
 * synchronous step, so a transaction holds exactly the effects of the offsets it commits.
 */
type Pending = {
  startedAt: number
  evaluated: number
  offsets: Map<string, PartitionOffset>
  notices: AlertNotice[]
  deadLetters: Message[]
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

  /**
   * Ends what was evaluated so far as one transaction's content and queues the transaction. Not
   * awaited by reading: while one transaction commits, the next events are evaluated.
   */
  const snapshotAndCommit = (): Promise<void> => {
    if (pending.offsets.size === 0 || failure !== undefined) return transactions
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
        { topic: topics.alerts, messages: alerts.messagesOf(snapshot.notices) },
        { topic: topics.state, messages: snapshot.changes.map(changelogMessage) },
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
        log.warn(
          { err: error, alerts: snapshot.notices.length, offsets: [...snapshot.offsets.values()] },
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
    metrics.transactionSeconds.observe((performance.now() - started) / 1000)
    report(snapshot)
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
      await options.assignment()
      const source = sourceOf(record.topic, record.partition)
      // Whatever the event does, the outcome is its alerts or its dead letter: never a throw.
      const result: RecordOutcome = outcome.ok
        ? evaluateRecord(outcome.value, { engine, from: { source, nowMs: now() }, checkNotices })
        : { kind: 'dead-letter', cause: deadLetterCause(outcome.failure) }
      if (result.kind === 'evaluated') {
        pending.notices.push(...result.notices)
      } else {
        pending.deadLetters.push(deadLetterOf(record, result))
        pending.deadLetterClasses.push(result.cause.errorClass)
      }
      const aboutPipeline = engine.takePipelineAlerts()
      if (aboutPipeline.length > 0) pending.notices.push(...checkedPipelineAlerts(aboutPipeline))
      if (record.highWatermark !== undefined) {
        // Read to its end once the record is the last the broker had when it was fetched.
        engine.sourceReadTo(source, BigInt(record.offset) + 1n >= BigInt(record.highWatermark), now())
      }
      // No await between the evaluation and this: a snapshot never splits an event from its offset.
      mergeCommittable(pending.offsets, committable)
      pending.evaluated++
      if (pending.evaluated >= maxEvaluatedAhead) {
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
  notices: [],
  deadLetters: [],
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
