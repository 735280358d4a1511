import { setTimeout as sleep } from 'node:timers/promises'
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka } from 'kafkajs'
import {
  backoffDelayMs,
  retryWithBackoff,
  type BackoffPolicy,
  type CheckReport,
  type Logger,
} from '@audit-pipeline/service-runtime'
import type { ConsumerMetrics } from './consumerMetrics.js'
import { createDeadLetterGuard, type DeadLetterGuardSettings } from './deadLetterGuard.js'
import { committableOf, type KafkaRecord, type PartitionOffset } from './kafkaRecord.js'
import { isRefusedCommit, isTransientKafkaError } from './kafkaErrors.js'
import type { ProcessingStep } from './processingStep.js'
import { isOutage, StepInterrupted } from './recordFailure.js'
import { requireTopics, TopicsMissingError, type RequiredTopics } from './topicCheck.js'

/** What `whileUnavailable` names the schema registry: its retries are counted in `<prefix>_registry_retries_total`. */
export const registryOutage = 'schema registry'

/** What the runtime gives a service's steps. */
export type RuntimeContext = {
  /** Commits positions (next offsets); a commit refused by a rebalance is logged, not thrown. */
  commit: (offsets: readonly PartitionOffset[]) => Promise<void>
  /**
   * Runs `work`, waiting out outages (errors retriable by their own account: the registry or a
   * broker not answering) with capped backoff, logging and counting each retry. The partition is
   * held meanwhile (heartbeats go on). Gives up only on stop's deadline.
   */
  whileUnavailable: <T>(what: string, work: () => Promise<T>) => Promise<T>
  /** Says the steps committed by their own means (a transaction): failures so far are over. */
  committedElsewhere: () => void
  /** Counts records the service dead-lettered, by error class: the metric and the guard. */
  countDeadLetters: (errorClasses: readonly string[]) => void
  /** Aborted when stop's deadline passes, or the consumer restarts: stop waiting and retrying. */
  readonly signal: AbortSignal
  readonly log: Logger
}

export type ConsumerGroupSettings = Pick<
  ConsumerConfig,
  'groupId' | 'sessionTimeout' | 'maxWaitTimeInMs' | 'minBytes' | 'readUncommitted'
> & {
  /** Partitions processed at once; the steps are shared, so they must allow it. Default 1. */
  partitionsConsumedConcurrently?: number
}

export type OutageSettings = {
  readonly backoff: BackoffPolicy
  /** How long failures may go on without a batch going through before the runtime gives up; 0 = never. */
  readonly giveUpAfterMs: number
}

export const defaultOutageSettings: OutageSettings = Object.freeze({
  backoff: Object.freeze({ initialDelayMs: 200, maxDelayMs: 30_000, multiplier: 2 }),
  giveUpAfterMs: 0,
})

export type ConsumerRuntimeOptions = {
  kafka: Kafka
  log: Logger
  metrics: ConsumerMetrics
  group: ConsumerGroupSettings
  subscription: { topics: (string | RegExp)[]; fromBeginning: boolean }
  /** Checked before reading: missing topics fail the start with TopicsMissingError. */
  requiredTopics?: RequiredTopics
  /**
   * Builds the steps; called at start and again after every restart (whatever the old steps held
   * and had not committed is read again). May restore state first.
   */
  createSteps(context: RuntimeContext): Promise<ProcessingStep<KafkaRecord>> | ProcessingStep<KafkaRecord>
  outage?: OutageSettings
  deadLetterGuard?: DeadLetterGuardSettings & {
    /** How long input stays paused once the guard tripped, ms; 0 = until the service restarts. */
    readonly pauseMs: number
  }
  /** How long stop may take to finish and commit what was read. */
  stopDeadlineMs: number
  /** How often the steps are polled when no fetch brings messages (batches closed by age), ms. Default 100. */
  pollIntervalMs?: number
  /** Failures went on past `outage.giveUpAfterMs`: the runtime stopped; the process should exit. */
  onGiveUp?(error: unknown): void
  /** The partitions this member holds after each rebalance, by topic (before any of them is read). */
  onAssigned?: (assignment: Readonly<Record<string, readonly number[]>>) => void
  now?: () => number
}

export type ConsumerRuntime = {
  /** Checks topics, then joins the group and reads; waits out an unavailable Kafka meanwhile. */
  start(): Promise<void>
  /** Stops reading, finishes and commits what was read (within the deadline), disconnects. */
  stop(): Promise<void>
  live(): CheckReport
  ready(): CheckReport
  /** The partitions paused (by the dead-letter guard), as kafkajs reports them. */
  paused(): { topic: string; partitions: number[] }[]
  readonly groupId: string
}

/** kafkajs's default request timeout (the consumers are created with it). */
const kafkaRequestTimeoutMs = 30_000

/** An attempt to join Kafka that took too long, or was overtaken by a later one: tried again. */
class ConnectTimeoutError extends Error {
  override name = 'ConnectTimeoutError'
}

type Phase = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'gave-up'

/**
 * The one consumer loop every service runs (arroyo's StreamProcessor): it owns the kafkajs
 * consumer, group membership and health, lag, heartbeats while a step waits, offsets, the
 * dead-letter guard, outages and stop. A service brings only its steps.
 *
 * Failures: a record's own failure never reaches here (runTask isolates it). A step that fails
 * otherwise (a write that could not be made, a transaction refused) and a consumer kafkajs gave
 * up on both lead to a restart: the steps are closed, the consumer rejoins after a backoff and
 * reads again from the last commit, with new steps. Nothing is committed that was not done, so
 * nothing is lost; the service never exits for a transient failure.
 */
export function createConsumerRuntime(options: ConsumerRuntimeOptions): ConsumerRuntime {
  const { kafka, log, metrics } = options
  const groupId = options.group.groupId
  const labels = { group: groupId }
  const outage = options.outage ?? defaultOutageSettings
  const now = options.now ?? Date.now
  const sessionTimeoutMs = options.group.sessionTimeout ?? 30_000
  const heartbeatEveryMs = Math.max(500, Math.floor(sessionTimeoutMs / 6))

  let phase: Phase = 'starting'
  /** Where the current attempt to join stands, for the error when one takes too long. */
  let stage = 'starting'
  let joined = false
  /** Since when the current consumer is out of its group (created, rebalancing, crashed). */
  let outOfGroupSinceMs: number | undefined
  let watchdog: NodeJS.Timeout | undefined
  // How long the coordinator waits for every member to rejoin. kafkajs's default is a fixed 60 s:
  // after a coordinator moved, every join waited that long for members gone with the old one.
  // Twice the session timeout leaves a member time to finish its batch (60 s by default still).
  const rebalanceTimeoutMs = 2 * sessionTimeoutMs
  // A join waits at most the rebalance timeout for the other members, then the session timeout.
  const stuckAfterMs = rebalanceTimeoutMs + sessionTimeoutMs
  // An attempt to join: a few requests (each bounded by kafkajs's request timeout) and one join.
  const connectTimeoutMs = 2 * kafkaRequestTimeoutMs + stuckAfterMs
  let consumer: Consumer | undefined
  let steps: ProcessingStep<KafkaRecord> | undefined
  /** Aborted on stop: reading takes no new record. */
  const closing = new AbortController()
  /** Aborted on stop's deadline or a restart: the steps stop waiting. Replaced per generation. */
  let aborting = new AbortController()
  /** Set when a step failed: the other partitions' loops stop and a restart follows. */
  let broken: unknown
  let activeBatches = 0
  const idleWaiters: (() => void)[] = []
  let restarting: Promise<void> | undefined
  /** Since when failures go on without a commit in between; a commit is progress. */
  let failingSinceMs: number | undefined
  /** Step failures since the last commit: a step failing every time backs off further each restart. */
  let consecutiveFailures = 0
  /** What failed last: Kafka's failures end with a join, a step's only with a commit. */
  let lastFailure: 'step' | 'kafka' | undefined
  /** What a step is waiting for (`schema registry`), while it is: the service is not ready meanwhile. */
  let unavailable: string | undefined
  const outageTooLong = () =>
    outage.giveUpAfterMs > 0 && failingSinceMs !== undefined && now() - failingSinceMs >= outage.giveUpAfterMs
  const progressed = () => {
    failingSinceMs = undefined
    consecutiveFailures = 0
  }
  let lastError: string | undefined
  let assignedTopics: string[] = []
  let pauseTimer: NodeJS.Timeout | undefined
  let guardTripped = false
  let records = 0
  let deadLettered = 0
  const guard = options.deadLetterGuard && createDeadLetterGuard(options.deadLetterGuard)
  let pollTimer: NodeJS.Timeout | undefined
  /**
   * The steps see one call at a time, in order, whatever partitions kafkajs fetches at once: a
   * batch never mixes two concurrent submits, and commits follow the order of the data. (Steps
   * that want I/O in parallel ask for it: runInFlight.)
   */
  let turn: Promise<unknown> = Promise.resolve()
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const run = turn.then(work)
    turn = run.catch(() => undefined)
    return run
  }

  const context = (): RuntimeContext => {
    const signal = aborting.signal
    return {
      signal,
      log,
      commit: (offsets) => commit(offsets, signal),
      whileUnavailable: async (what, work) => {
        // Nearly every call succeeds at once (the registry's schemas are cached): only a failure
        // builds the signal a wait listens to. An AbortSignal.any per call cost about 6% of a
        // service's thread, more than most of what a record's step does.
        let first: { error: unknown } | undefined
        if (!signal.aborted && !closing.signal.aborted) {
          try {
            return await work()
          } catch (error) {
            if (signal.aborted || closing.signal.aborted)
              throw new StepInterrupted(`stopped while waiting for the ${what}`, { cause: error })
            first = { error }
          }
        }
        // Stop ends the wait at once: the record is not done, and is read again after the restart.
        const waiting = AbortSignal.any([signal, closing.signal])
        let retried = false
        // The first attempt, made above, is attempt 0: its failure is judged, logged and waited
        // out as any other attempt's.
        const tryWork = async (attempt: number) => {
          if (attempt === 0 && first) throw first.error
          return work()
        }
        try {
          return await retryWithBackoff(tryWork, {
            isRetriable: (error) => isOutage(error) && !waiting.aborted && !outageTooLong(),
            policy: outage.backoff,
            signal: waiting,
            onRetry: (error, attempt, delayMs) => {
              retried = true
              unavailable = what
              failingSinceMs ??= now()
              if (what === registryOutage) metrics.registryRetries.inc(labels)
              log.warn(
                { err: error, attempt, delayMs: Math.round(delayMs) },
                `${what} unavailable; holding the partition and retrying`,
              )
            },
          })
        } catch (error) {
          if (waiting.aborted)
            throw new StepInterrupted(`stopped while waiting for the ${what}`, { cause: error })
          throw error
        } finally {
          if (retried) {
            unavailable = undefined
            if (consecutiveFailures === 0 && !outageTooLong()) failingSinceMs = undefined
          }
        }
      },
      committedElsewhere: progressed,
      countDeadLetters(errorClasses) {
        for (const errorClass of errorClasses)
          metrics.recordsFailed.inc({ ...labels, error_class: errorClass })
        deadLettered += errorClasses.length
      },
    }
  }

  const commit = async (offsets: readonly PartitionOffset[], signal: AbortSignal) => {
    if (offsets.length === 0) return
    const current = consumer
    if (!current) throw new Error('commit without a consumer')
    try {
      await retryWithBackoff(() => withinCommitTimeout(current.commitOffsets([...offsets])), {
        isRetriable: (error) => isTransientKafkaError(error) && !isRefusedCommit(error),
        policy: outage.backoff,
        maxAttempts: 8,
        signal,
        onRetry: (error, attempt) => log.warn({ err: error, attempt }, 'commit failed; retrying'),
      })
      progressed()
    } catch (error) {
      if (!isRefusedCommit(error)) throw error
      // The partitions moved to another member: it reads from the last commit. Nothing is lost
      // by not committing; what was done is done again (each service says how it stays single).
      log.warn({ err: error, offsets }, 'commit refused (the group rebalanced); the next owner reads again')
    }
  }

  // kafkajs retries a commit by itself, each try bounded by its request timeout; a commit that
  // has not settled long after is stuck (seen when the coordinator's broker was killed): the
  // step fails and the runtime restarts from the last commit, instead of waiting for ever.
  const commitTimeoutMs = 2 * kafkaRequestTimeoutMs + sessionTimeoutMs
  const withinCommitTimeout = async (committing: Promise<void>) => {
    const timer = new AbortController()
    try {
      return await Promise.race([
        committing,
        sleep(commitTimeoutMs, undefined, { signal: timer.signal, ref: false }).then(() => {
          throw new Error(`the commit did not settle within ${commitTimeoutMs} ms`)
        }),
      ])
    } finally {
      timer.abort()
    }
  }

  /** Which consumer is current: a batch of an older one (still winding down) is refused. */
  let generation = 0
  const eachBatch = async (payload: EachBatchPayload, of: number) => {
    const { batch } = payload
    if (of !== generation || closing.signal.aborted || broken !== undefined || !steps) return
    const current = steps
    activeBatches++
    const heartbeat = setInterval(() => {
      payload.heartbeat().catch((error: unknown) => log.debug({ err: error }, 'heartbeat failed'))
    }, heartbeatEveryMs)
    let last: string | undefined
    try {
      // The whole fetched batch in one turn: one partition's messages go through in a run.
      await inTurn(async () => {
        for (const [index, message] of batch.messages.entries()) {
          if (closing.signal.aborted || broken !== undefined || !payload.isRunning()) break
          // isStale() walks kafkajs's assignment: asked every 64 messages, a revoked partition
          // costs at most 64 messages done twice, never one lost.
          if (index % 64 === 0 && payload.isStale()) break
          const record: KafkaRecord = {
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: message.headers ?? {},
            timestamp: message.timestamp,
            highWatermark: batch.highWatermark,
          }
          await current.submit({ payload: record, committable: committableOf(record) })
          records++
          last = message.offset
          payload.resolveOffset(message.offset)
        }
        if (broken === undefined && !closing.signal.aborted) await current.poll()
      })
    } catch (error) {
      if (closing.signal.aborted) {
        // Stopping: a wait cut short by the deadline. What was submitted is finished by join.
        log.debug({ err: error }, 'a step stopped waiting: stopping')
      } else {
        fail(error, 'step')
      }
    } finally {
      clearInterval(heartbeat)
      // A batch of a consumer given up on no longer counts (restart stopped waiting for it).
      if (of === generation) {
        activeBatches--
        if (activeBatches === 0) for (const wake of idleWaiters.splice(0)) wake()
      }
    }
    if (last !== undefined) {
      const lag = Number(batch.highWatermark) - Number(last) - 1
      metrics.lag.set({ ...labels, topic: batch.topic, partition: String(batch.partition) }, Math.max(0, lag))
    }
    observeGuard()
  }

  const observeGuard = () => {
    if (!guard || !options.deadLetterGuard || guardTripped) return
    const verdict = guard.observe(records, deadLettered, now())
    records = 0
    deadLettered = 0
    if (verdict === 'ok') return
    guardTripped = true
    metrics.deadLetterGuardTripped.set(labels, 1)
    const { pauseMs } = options.deadLetterGuard
    log.error(
      { window: { ...guard.window }, settings: options.deadLetterGuard, topics: assignedTopics },
      pauseMs > 0
        ? `more than ${options.deadLetterGuard.maxShare * 100}% of records were dead-lettered: input paused for ${pauseMs} ms (audit-pipeline dlq list shows why)`
        : `more than ${options.deadLetterGuard.maxShare * 100}% of records were dead-lettered: input paused until the service restarts (audit-pipeline dlq list shows why)`,
    )
    consumer?.pause(assignedTopics.map((topic) => ({ topic })))
    const pausedAt = now()
    if (pauseMs > 0) {
      pauseTimer = setTimeout(() => {
        guardTripped = false
        metrics.deadLetterGuardTripped.set(labels, 0)
        metrics.pausedSeconds.inc(labels, (now() - pausedAt) / 1000)
        consumer?.resume(assignedTopics.map((topic) => ({ topic })))
        log.warn('dead-letter guard: input resumed')
      }, pauseMs)
      pauseTimer.unref()
    }
  }

  /** A step failed or kafkajs gave up: restart from the last commit, once, in the background. */
  const fail = (error: unknown, reason: 'step' | 'kafka') => {
    if (closing.signal.aborted || broken !== undefined) return
    broken = error
    lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    failingSinceMs ??= now()
    consecutiveFailures++
    lastFailure = reason
    log.error({ err: error, reason, consecutiveFailures }, 'consumer failed; restarting from the last commit')
    metrics.restarts.inc({ ...labels, reason })
    scheduleRestart()
  }

  /**
   * One restart at a time. A consumer that fails while a restart is still bringing it up (kafkajs
   * reports a failed join after run() returned) is restarted again once that one ends.
   */
  const scheduleRestart = () => {
    if (restarting) return
    restarting = restart().finally(() => {
      restarting = undefined
      if (broken !== undefined && !closing.signal.aborted && phase !== 'gave-up') scheduleRestart()
    })
  }

  /** Waits for `promise`, or `ms`, whichever comes first. */
  const within = (ms: number, promise: Promise<unknown> | undefined) =>
    Promise.race([promise, sleep(ms, undefined, { ref: false })])

  const idle = () =>
    activeBatches === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))

  const restart = async () => {
    phase = 'restarting'
    joined = false
    clearInterval(pollTimer)
    metrics.kafkaUnavailable.set(labels, 1)
    aborting.abort()
    // Let the loops notice, then drop the old consumer and steps. Each wait is bounded: a kafkajs
    // consumer whose broker vanished can take minutes to disconnect, and its group evicts it after
    // the session timeout anyway; its late batches are refused by generation (eachBatch).
    await sleep(0)
    const old = consumer
    consumer = undefined
    const patienceMs = sessionTimeoutMs
    await within(
      patienceMs,
      old?.disconnect().catch((error: unknown) => log.debug({ err: error }, 'disconnect failed')),
    )
    await within(patienceMs, idle())
    const closed = steps
    if (closed)
      await within(
        patienceMs,
        inTurn(() => closed.close()).catch((error: unknown) =>
          log.debug({ err: error }, 'closing steps failed'),
        ),
      )
    // A batch of the old consumer still stuck in a step holds the old turn, not the new one.
    turn = Promise.resolve()
    generation++
    activeBatches = 0
    for (const wake of idleWaiters.splice(0)) wake()
    steps = undefined
    for (let attempt = 0; !closing.signal.aborted; attempt++) {
      if (gaveUp()) return
      // Stop cuts the wait short: a SIGTERM during an outage keeps to its deadline.
      await sleep(
        backoffDelayMs(Math.min(attempt + consecutiveFailures - 1, 20), outage.backoff) + 100,
        undefined,
        {
          signal: closing.signal,
        },
      ).catch(() => undefined)
      if (closing.signal.aborted) return
      aborting = new AbortController()
      broken = undefined
      log.info({ attempt }, 'rejoining the consumer group')
      try {
        await connectWithin()
        return
      } catch (error) {
        if (error instanceof TopicsMissingError) {
          lastError = error.message
        } else {
          lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
        }
        log.warn({ err: error, attempt }, 'consumer not back yet; retrying')
        // connectAndRun may have set them before failing.
        const failed = consumer as Consumer | undefined
        consumer = undefined
        await failed?.disconnect().catch(() => undefined)
        const leftover = steps as ProcessingStep<KafkaRecord> | undefined
        steps = undefined
        await leftover?.close().catch(() => undefined)
      }
    }
  }

  /**
   * One attempt to join, bounded: kafkajs can wait without end while a broker is half back (seen
   * in the cluster drill: a restart that connected nothing and logged nothing for minutes). Past
   * the bound the attempt is given up on, named by where it stood, and the caller tries again.
   */
  const connectWithin = async () => {
    const timer = new AbortController()
    try {
      await Promise.race([
        connectAndRun(),
        sleep(connectTimeoutMs, undefined, { signal: timer.signal, ref: false }).then(() => {
          const at = stage
          generation++
          throw new ConnectTimeoutError(`joining Kafka took longer than ${connectTimeoutMs} ms (${at})`)
        }),
      ])
    } finally {
      timer.abort()
    }
  }

  const gaveUp = () => {
    if (outage.giveUpAfterMs <= 0 || failingSinceMs === undefined) return false
    if (now() - failingSinceMs < outage.giveUpAfterMs) return false
    phase = 'gave-up'
    log.fatal({ lastError, giveUpAfterMs: outage.giveUpAfterMs }, 'failing for too long; giving up')
    options.onGiveUp?.(new Error(lastError ?? 'failing for too long'))
    return true
  }

  /** One generation: steps, consumer, group, run. Throws when any part fails. */
  const connectAndRun = async () => {
    const current = ++generation
    // An attempt given up on (connectWithin) must not publish what it builds once it wakes up.
    const superseded = () => current !== generation || closing.signal.aborted
    if (options.requiredTopics) {
      stage = 'checking the topics'
      const admin = kafka.admin()
      await admin.connect()
      try {
        await requireTopics(admin, options.requiredTopics)
      } finally {
        await admin.disconnect()
      }
    }
    stage = 'building the steps'
    const built = await options.createSteps(context())
    if (superseded()) {
      await built.close().catch(() => undefined)
      throw new ConnectTimeoutError('a later attempt took over')
    }
    steps = built
    const created = kafka.consumer({
      ...options.group,
      rebalanceTimeout: rebalanceTimeoutMs,
      heartbeatInterval: Math.floor(sessionTimeoutMs / 10),
      allowAutoTopicCreation: false,
      // kafkajs never restarts a consumer by itself: its restart timer outlives a disconnect made
      // meanwhile, so a consumer the runtime had dropped came back, joined the group and held its
      // partitions while its batches were refused (the cluster drill's forwarder, silent for
      // minutes). Every failure goes through the runtime's one restart, with new steps.
      retry: { retries: 5, restartOnFailure: () => Promise.resolve(false) },
    })
    outOfGroupSinceMs = now()
    created.on(created.events.GROUP_JOIN, ({ payload }) => {
      joined = true
      outOfGroupSinceMs = undefined
      phase = 'running'
      // Back in the group after Kafka was away: that outage is over. (After a step failure only a
      // commit shows the step works again.)
      if (consecutiveFailures === 0 || lastFailure === 'kafka') progressed()
      metrics.kafkaUnavailable.set(labels, 0)
      assignedTopics = Object.keys(payload.memberAssignment)
      options.onAssigned?.(payload.memberAssignment)
      if (guardTripped) created.pause(assignedTopics.map((topic) => ({ topic })))
      log.info({ groupId, assigned: payload.memberAssignment }, 'joined the consumer group')
    })
    created.on(created.events.REBALANCING, () => {
      joined = false
      outOfGroupSinceMs ??= now()
    })
    created.on(created.events.CRASH, ({ payload }) => {
      joined = false
      if (consumer !== created) return
      // A broker gone, a coordinator loading, a join refused: the runtime's restart rejoins.
      fail(payload.error, 'kafka')
    })
    consumer = created
    // kafkajs can stop rejoining without crashing (seen after a coordinator moved in a rolling
    // restart: JoinGroup answered "coordinator is loading", then silence): a consumer out of its
    // group for longer than any join takes is restarted like a crashed one.
    clearInterval(watchdog)
    watchdog = setInterval(() => {
      if (consumer !== created || closing.signal.aborted || broken !== undefined) return
      if (outOfGroupSinceMs === undefined || now() - outOfGroupSinceMs < stuckAfterMs) return
      fail(
        new Error(
          `the consumer stayed out of its group for ${Math.round((now() - outOfGroupSinceMs) / 1000)} s without kafkajs reporting a failure`,
        ),
        'kafka',
      )
    }, 1_000)
    watchdog.unref()
    stage = 'connecting the consumer'
    await created.connect()
    stage = 'subscribing'
    await created.subscribe({
      topics: options.subscription.topics,
      fromBeginning: options.subscription.fromBeginning,
    })
    stage = 'joining the group'
    await created.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.group.partitionsConsumedConcurrently ?? 1,
      eachBatch: async (payload) => {
        // Defence in depth: a consumer the runtime dropped must not hold partitions it never reads.
        if (consumer !== created && !closing.signal.aborted) {
          void created.disconnect().catch((error: unknown) => log.debug({ err: error }, 'disconnect failed'))
          return
        }
        await eachBatch(payload, current)
      },
    })
    if (superseded()) {
      await created.disconnect().catch(() => undefined)
      throw new ConnectTimeoutError('a later attempt took over')
    }
    stage = 'running'
    const polled = steps
    clearInterval(pollTimer)
    let pollQueued = false
    pollTimer = setInterval(() => {
      // One poll waiting at most: behind a blocked submit they would otherwise pile up.
      if (pollQueued || closing.signal.aborted || broken !== undefined || steps !== polled) return
      pollQueued = true
      inTurn(() => polled.poll())
        .catch((error: unknown) => {
          if (!closing.signal.aborted) fail(error, 'step')
        })
        .finally(() => (pollQueued = false))
    }, options.pollIntervalMs ?? 100)
    pollTimer.unref()
  }

  return {
    groupId,
    async start() {
      if (closing.signal.aborted) return
      metrics.kafkaUnavailable.set(labels, 0)
      for (let attempt = 0; ; attempt++) {
        try {
          await connectWithin()
          return
        } catch (error) {
          // Topics missing is the operator's to fix: the service says so and does not start.
          const transient = isTransientKafkaError(error) || error instanceof ConnectTimeoutError
          if (error instanceof TopicsMissingError || !transient || closing.signal.aborted) throw error
          failingSinceMs ??= now()
          lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
          metrics.kafkaUnavailable.set(labels, 1)
          const failed = consumer
          consumer = undefined
          await failed?.disconnect().catch(() => undefined)
          await steps?.close().catch(() => undefined)
          steps = undefined
          if (gaveUp()) throw error
          const delayMs = backoffDelayMs(Math.min(attempt, 20), outage.backoff) + 100
          log.warn(
            { err: error, attempt, delayMs: Math.round(delayMs) },
            'Kafka unavailable; waiting to start',
          )
          await sleep(delayMs, undefined, { signal: closing.signal }).catch(() => undefined)
          if (closing.signal.aborted) return
        }
      }
    },

    async stop() {
      if (phase === 'stopping' || phase === 'stopped') return
      const was = phase
      phase = 'stopping'
      closing.abort()
      clearTimeout(pauseTimer)
      clearInterval(pollTimer)
      clearInterval(watchdog)
      const deadline = sleep(options.stopDeadlineMs, 'deadline' as const, { ref: false })
      const finish = async () => {
        await restarting
        await idle()
        // Finish and commit while the consumer can still commit (after stop() kafkajs refuses).
        const current = steps
        if (was !== 'gave-up' && current) await inTurn(() => current.join())
        return 'done' as const
      }
      const finished = finish()
      const outcome = await Promise.race([finished.catch((error: unknown) => error), deadline])
      if (outcome === 'deadline') {
        log.error(
          { deadlineMs: options.stopDeadlineMs },
          'what was read was not finished in time; it will be read again',
        )
      } else if (outcome !== 'done') {
        log.error({ err: outcome }, 'finishing what was read failed; it will be read again')
      }
      aborting.abort()
      await finished.catch(() => undefined)
      await steps?.close().catch(() => undefined)
      await consumer?.disconnect().catch((error: unknown) => log.warn({ err: error }, 'disconnect failed'))
      joined = false
      phase = 'stopped'
    },

    paused: () => consumer?.paused() ?? [],
    live: () => (phase === 'gave-up' ? { ok: false, details: { gaveUp: true, lastError } } : { ok: true }),
    ready: () => {
      const ok = phase === 'running' && joined && !guardTripped && unavailable === undefined
      return {
        ok,
        details: {
          consumerGroupJoined: joined,
          ...(unavailable !== undefined && { waitingFor: unavailable }),
          ...(phase !== 'running' && { phase }),
          ...(guardTripped && { deadLetterGuardTripped: true }),
          ...(!ok && lastError !== undefined && { lastError }),
        },
      }
    },
  }
}
