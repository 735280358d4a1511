import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Consumer, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs'
import { drainStream } from '@clickhouse/client'
import { CodecError, type AuditEventCodec } from '@audit-pipeline/codec'
import { buildDeadLetter } from '@audit-pipeline/dead-letter'
import { retryWithBackoff, type CheckReport, type Logger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import { flushReason, type FlushReason } from './batching/batchPolicy.js'
import { createPendingBatch, type PendingBatch, type SourceMessage } from './batching/pendingBatch.js'
import type { SinkConfig } from './config.js'
import { lastStoredOffset } from './delivery/storedOffsets.js'
import { writeRows } from './delivery/writeRows.js'
import type { SinkMetrics } from './metrics.js'
import { auditTables } from './schema/auditTables.js'
import { eventRow } from './schema/eventRow.js'
import { runMigrations } from './schema/runMigrations.js'

const eventsTable = auditTables.events

export type SinkOptions = {
  config: SinkConfig
  kafka: Kafka
  codec: AuditEventCodec
  storage: Storage
  metrics: SinkMetrics
  log: Logger
  now?: () => number
  /**
   * Called when a batch failed in a way retrying could not fix (its dead letters could not be
   * sent, say). The sink then commits nothing more, since committing a later batch would skip
   * the failed one's offsets; the process should exit so the batch is read again. Default: none
   * (main.ts exits).
   */
  onFatal?: (error: unknown) => void
}

export type Sink = {
  /** Applies migrations, joins the consumer group and starts writing. */
  start(): Promise<void>
  /** Stops reading, writes the open batch and commits it (within the shutdown deadline), closes Kafka clients. */
  stop(): Promise<void>
  live(): CheckReport
  ready(): CheckReport
}

/**
 * A row as its JSONEachRow line, serialised as it is read: the batch then holds one string per
 * row rather than the row's object tree, and the insert only joins the lines.
 */
type Row = string

/**
 * Reads normalized events, turns each into a row and writes rows in batches: one insert per batch,
 * closed by size or age. Offsets are committed only after ClickHouse confirmed the insert, and a
 * batch's insert carries a deduplication token of its offset ranges, so a retried insert is stored
 * once. While a batch is being written the next one fills; when it is full too, reading waits
 * (the partitions are paused in effect), so memory holds at most two batches.
 */
export function createSink(options: SinkOptions): Sink {
  const { config, kafka, codec, storage, metrics, log } = options
  const now = options.now ?? (() => Date.now())
  const stopping = new AbortController()
  const state = {
    joined: false,
    writing: false,
    clickhouseDown: false,
    crashed: undefined as string | undefined,
  }

  let pending: PendingBatch<Row> = createPendingBatch()
  let deadLetters: Message[] = []
  /** Batches are written one at a time, in order: each flush waits for the one before. */
  let writes: Promise<void> = Promise.resolve()
  let flushesQueued = 0
  /** Set on stop: reading takes no more rows, so the last batch is the open one. */
  let closing = false
  /** A batch that failed for good: from then on nothing is written or committed. */
  let failed: Error | undefined
  /** Per partition, the last offset already in ClickHouse, looked up once per group generation. */
  let stored = new Map<string, Promise<bigint | undefined>>()
  let ageTimer: NodeJS.Timeout | undefined

  const consumer: Consumer = kafka.consumer({
    groupId: config.groupId,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.floor(config.sessionTimeoutMs / 10),
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
  })
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  })

  consumer.on(consumer.events.GROUP_JOIN, () => {
    state.joined = true
    // Partitions may have moved: look up what is stored again before reading on.
    stored = new Map()
  })
  consumer.on(consumer.events.REBALANCING, () => {
    state.joined = false
  })
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    state.joined = false
    log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed')
    if (!payload.restart) state.crashed = payload.error.message
  })

  const storedOffset = (topic: string, partition: number) => {
    const key = `${topic}\u0000${partition}`
    let lookup = stored.get(key)
    if (!lookup) {
      lookup = retryWithBackoff(() => lastStoredOffset(storage, eventsTable, topic, partition), {
        isRetriable: () => !stopping.signal.aborted,
        policy: backoff(config),
        signal: stopping.signal,
        onRetry: (error, attempt, delayMs) => {
          state.clickhouseDown = true
          metrics.retries.inc({ operation: 'lookup' })
          log.warn(
            { err: error, topic, partition, attempt, delayMs },
            'reading stored offsets failed; retrying',
          )
        },
      })
      lookup.catch(() => stored.delete(key))
      stored.set(key, lookup)
    }
    return lookup
  }

  /** Writes the open batch (one at a time), dead letters first, then commits its offsets. */
  const flush = (reason: FlushReason | 'shutdown'): Promise<void> => {
    flushesQueued++
    const run = writes.then(async () => {
      // After a failed batch nothing may be committed: a later commit would skip its offsets.
      if (failed !== undefined) throw failed
      const batch = pending
      const letters = deadLetters
      if (batch.rows.length === 0 && letters.length === 0 && batch.commitOffsets().length === 0) return
      pending = createPendingBatch()
      deadLetters = []
      state.writing = true
      const started = performance.now()
      try {
        const rejected = await writeRows(batch.rows, batch.ranges(), insertRows, {
          backoff: backoff(config),
          signal: stopping.signal,
          onRetry: (error, attempt, delayMs) => {
            state.clickhouseDown = true
            metrics.retries.inc({ operation: 'insert' })
            log.warn({ err: error, attempt, delayMs, rows: batch.rows.length }, 'insert failed; retrying')
          },
        })
        state.clickhouseDown = false
        for (const { row, reason: why } of rejected) {
          letters.push(deadLetterOf(row.topic, row.partition, row.offset, row.message, 'ROW_REJECTED', why))
        }
        if (letters.length > 0) {
          await producer.send({ topic: config.deadLetterTopic, acks: -1, messages: letters })
          for (const letter of letters) {
            const why = letter.headers?.['audit-dlq-error-class']?.toString() ?? 'UNKNOWN'
            metrics.deadLettered.inc({ reason: why })
          }
          log.warn(
            { deadLettered: letters.length },
            'dead-lettered messages (audit-pipeline dlq list shows why)',
          )
        }
        await commit(batch)
        const written = batch.rows.length - rejected.length
        metrics.rowsWritten.inc({ table: eventsTable }, written)
        metrics.batches.inc({ reason })
        metrics.batchRows.observe(batch.rows.length)
        metrics.insertSeconds.observe((performance.now() - started) / 1000)
        log.debug({ rows: written, reason, seconds: (performance.now() - started) / 1000 }, 'batch written')
      } catch (error) {
        // Not committed: the batch is read again, by this instance after a restart or by another.
        // Rows that did land are skipped then (lastStoredOffset) or collapse by event_id.
        if (stopping.signal.aborted) {
          log.warn({ rows: batch.rows.length }, 'stopped before the batch was written')
          return
        }
        failed ??= error instanceof Error ? error : new Error(String(error))
        log.fatal(
          { err: error, rows: batch.rows.length },
          'a batch could not be written; committing nothing more',
        )
        options.onFatal?.(error)
        throw error
      } finally {
        state.writing = false
      }
    })
    // The caller gets the failure through `run`; the chain only orders writes.
    writes = run
      .catch(() => undefined)
      .finally(() => {
        flushesQueued--
      })
    return run
  }

  // `exec` with the rows as bytes: `insert` would serialise row objects itself, and refuses a
  // byte stream for JSON formats. Same statement on both transports; the response is drained.
  const insertStatement = `INSERT INTO ${eventsTable} FORMAT JSONEachRow`
  const insertRows = async (rows: Row[], token: string) => {
    const { stream } = await storage.client.exec({
      query: insertStatement,
      values: Readable.from([Buffer.from(rows.join(''))], { objectMode: false }),
      clickhouse_settings: {
        insert_deduplication_token: token,
        // The views' tables deduplicate a retried batch too (the default only from ClickHouse 26.2).
        deduplicate_blocks_in_dependent_materialized_views: 1,
      },
    })
    await drainStream(stream)
  }

  const commit = async (batch: PendingBatch<Row>) => {
    const offsets = batch.commitOffsets()
    if (offsets.length === 0) return
    try {
      await consumer.commitOffsets(offsets)
    } catch (error) {
      // The partitions moved to another instance mid-batch: the rows are stored, and the next
      // owner skips them (lastStoredOffset). Nothing is lost by not committing.
      log.warn({ err: error, offsets }, 'commit refused (rebalance); the next owner skips stored rows')
    }
  }

  const deadLetterOf = (
    topic: string,
    partition: number,
    offset: bigint,
    message: SourceMessage,
    errorClass: string,
    why: string,
  ): Message =>
    buildDeadLetter({
      source: { topic, partition, offset: offset.toString(), ...message },
      error: { errorClass, message: why },
      service: 'clickhouse-sink',
      now: new Date(now()),
    })

  /** Waits for room in the batch, heartbeating so the group keeps the partitions meanwhile. */
  const waitForFlush = async (payload: EachBatchPayload, reason: FlushReason) => {
    const started = performance.now()
    const writing = flush(reason)
    for (;;) {
      const done = await Promise.race([writing.then(() => true), sleep(2_000, false)])
      if (done) break
      await payload.heartbeat()
    }
    metrics.backpressureSeconds.inc((performance.now() - started) / 1000)
  }

  const eachBatch = async (payload: EachBatchPayload) => {
    if (failed !== undefined) throw failed
    const { batch } = payload
    const { topic, partition } = batch
    const alreadyStored = await storedOffset(topic, partition)
    for (const message of batch.messages) {
      if (closing || !payload.isRunning() || payload.isStale()) break
      const offset = BigInt(message.offset)
      // Re-read after a rebalance while still in the open batch, or stored before a crash.
      const taken = pending.lastOffset(topic, partition)
      if (
        (taken !== undefined && offset <= taken) ||
        (alreadyStored !== undefined && offset <= alreadyStored)
      ) {
        if (alreadyStored !== undefined && offset <= alreadyStored) {
          metrics.alreadyStored.inc()
          if (taken === undefined || offset > taken) pending.advance(topic, partition, offset, now())
        }
        payload.resolveOffset(message.offset)
        continue
      }
      const source: SourceMessage = {
        key: message.key,
        value: message.value,
        ...(message.headers && { headers: message.headers }),
        timestamp: message.timestamp,
      }
      try {
        const event = await decode(message.value)
        const row = `${JSON.stringify(eventRow(event, { topic, partition, offset: message.offset }))}\n`
        pending.add({ row, bytes: row.length, topic, partition, offset, message: source }, now())
      } catch (error) {
        if (!(error instanceof CodecError) || error.retriable) throw error
        deadLetters.push(deadLetterOf(topic, partition, offset, source, error.code, error.message))
        pending.advance(topic, partition, offset, now())
      }
      payload.resolveOffset(message.offset)
      const reason = flushReason(
        { rows: pending.rows.length, bytes: pending.bytes, ageMs: 0 },
        { ...config.batch, maxAgeMs: Number.POSITIVE_INFINITY },
      )
      if (reason) await waitForFlush(payload, reason)
    }
    const last = batch.messages.at(-1)?.offset
    if (last !== undefined) {
      metrics.lag.set(
        { topic, partition: String(partition) },
        Math.max(0, Number(batch.highWatermark) - Number(last) - 1),
      )
    }
  }

  const decode = async (value: Buffer | null) => {
    if (value === null)
      throw new CodecError('EVENT_UNDECODABLE', 'a null value (tombstone) holds no event', false)
    return retryWithBackoff(() => codec.decode(value), {
      isRetriable: (error) => error instanceof CodecError && error.retriable && !stopping.signal.aborted,
      policy: backoff(config),
      signal: stopping.signal,
    })
  }

  return {
    async start() {
      if (config.migrate) {
        const applied = await runMigrations(storage, {
          database: storage.describe().database,
          retention: config.retention,
          ...(config.cluster && { cluster: config.cluster }),
        })
        if (applied.length > 0) log.info({ versions: applied }, 'applied schema migrations')
      }
      await requireTopics(kafka, [...config.inputTopics, config.deadLetterTopic])
      await producer.connect()
      await consumer.connect()
      await consumer.subscribe({ topics: [...config.inputTopics], fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
        eachBatch,
      })
      // Closes batches by age; size closes them as rows arrive.
      ageTimer = setInterval(
        () => {
          if (flushesQueued > 0) return
          const started = pending.startedAtMs
          const reason = flushReason(
            {
              rows: pending.rows.length + deadLetters.length,
              bytes: pending.bytes,
              ageMs: started === undefined ? 0 : now() - started,
            },
            config.batch,
          )
          if (reason === 'age') {
            flush('age').catch((error: unknown) => log.error({ err: error }, 'writing a batch failed'))
          }
        },
        Math.max(10, Math.min(250, Math.floor(config.batch.maxAgeMs / 4))),
      )
      log.info(
        {
          input: config.inputTopics,
          groupId: config.groupId,
          storage: storage.describe(),
          batch: config.batch,
        },
        'sink started',
      )
    },

    async stop() {
      if (stopping.signal.aborted) return
      log.info({ deadlineMs: config.shutdownDeadlineMs }, 'stopping: writing the open batch')
      clearInterval(ageTimer)
      const deadline = sleep(config.shutdownDeadlineMs, 'deadline' as const, { ref: false })
      // Take no more rows, then write and commit the open batch while the consumer can still
      // commit (after consumer.stop() kafkajs refuses commits), then stop it.
      closing = true
      const finished = (async () => {
        await flush('shutdown')
        await consumer.stop()
        return 'done' as const
      })()
      const outcome = await Promise.race([finished, deadline])
      if (outcome === 'deadline') {
        log.error(
          { deadlineMs: config.shutdownDeadlineMs },
          'the open batch was not written in time; it will be read again',
        )
      }
      stopping.abort()
      await writes
      await consumer.disconnect()
      await producer.disconnect()
      log.info('sink stopped')
    },

    live: () =>
      failed !== undefined
        ? { ok: false, details: { batchFailed: failed.message } }
        : state.crashed
          ? { ok: false, details: { crashed: state.crashed } }
          : { ok: true },
    ready: () => ({
      ok: state.joined && !stopping.signal.aborted,
      details: {
        consumerGroupJoined: state.joined,
        clickhouseUnavailable: state.clickhouseDown,
        writing: state.writing,
      },
    }),
  }
}

/**
 * Refuses to start without its topics: the idempotent producer would retry a send to a missing
 * dead-letter topic forever, stalling every partition with no error to show.
 */
async function requireTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const missing = topics.filter((topic) => !existing.has(topic))
    if (missing.length > 0) {
      throw new Error(
        `topics missing: ${missing.join(', ')} (SINK_INPUT_TOPICS, SINK_DEAD_LETTER_TOPIC); create them, or start the normalizer, which creates its outputs`,
      )
    }
  } finally {
    await admin.disconnect()
  }
}

function backoff(config: SinkConfig) {
  return { initialDelayMs: 100, maxDelayMs: config.retryMaxDelayMs, multiplier: 2 }
}
