import { readFileSync } from 'node:fs'
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import type { NormalizerConfig } from './config.js'
import { createDedupWindow } from './delivery/dedupWindow.js'
import { ensureTopics, type TopicRequest } from './delivery/ensureTopics.js'
import { processBatch } from './delivery/processBatch.js'
import type { NormalizerMetrics } from './metrics.js'
import { parseRoutes } from './routing/parseRoutes.js'
import type { RouteTable } from './routing/routeTable.js'
import { routeTopics } from './routing/routeTopics.js'

export type NormalizerOptions = {
  config: NormalizerConfig
  kafka: Kafka
  codec: AuditEventCodec
  metrics: NormalizerMetrics
  log: Logger
  /** Reads the routes file, at start and on reload. Default: from disk. */
  readFile?: (path: string) => string
  now?: () => Date
}

export type Normalizer = {
  /** Creates missing topics, joins the consumer group and starts consuming. */
  start(): Promise<void>
  /**
   * Stops fetching, lets the batch in flight finish (send, commit) within the shutdown deadline,
   * then closes the clients. Safe to call twice.
   */
  stop(): Promise<void>
  /**
   * Reads the routes file again and switches to it between two messages; a file with problems is
   * refused and the routes in force stay. New output topics are created first.
   */
  reloadRoutes(): Promise<void>
  live(): CheckReport
  ready(): CheckReport
  /** The routes in force. */
  routes(): RouteTable
}

/** Retrying the registry: quick at first, then every 10 s at most. */
const registryBackoff = { initialDelayMs: 200, maxDelayMs: 10_000, multiplier: 2 }

export function createNormalizer(options: NormalizerOptions): Normalizer {
  const { config, kafka, codec, metrics, log } = options
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'))
  const now = options.now ?? (() => new Date())

  let routes = loadRoutes(config.routesFile, readFile)
  const dedup = createDedupWindow({
    windowMs: config.dedupWindowMs,
    maxIds: config.dedupWindowMs === 0 ? 1 : config.dedupMaxIds,
  })
  const dedupEnabled = config.dedupWindowMs > 0
  const stopping = new AbortController()
  const state = { joined: false, producerUp: false, crashed: undefined as string | undefined }

  const consumer: Consumer = kafka.consumer({
    groupId: config.groupId,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.floor(config.sessionTimeoutMs / 10),
    // Fetch returns once data is there; this bounds the wait on an idle partition.
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
  })
  const producer: Producer = kafka.producer({
    idempotent: true,
    // One request in flight per broker: retries cannot reorder one object's events.
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  })
  const admin: Admin = kafka.admin()

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    state.joined = true
    log.info({ memberId: payload.memberId, assigned: payload.memberAssignment }, 'joined the consumer group')
  })
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    state.joined = false
    log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed')
    if (!payload.restart) state.crashed = payload.error.message
  })
  consumer.on(consumer.events.REBALANCING, () => {
    state.joined = false
  })

  const wantedTopics = (table: RouteTable): TopicRequest[] => [
    ...routeTopics(table).map((topic) => ({ topic })),
    {
      topic: config.deadLetterTopic,
      // A dead letter carries the original bytes plus headers: room for a message at the limit.
      configEntries: [{ name: 'max.message.bytes', value: String(config.maxEventBytes + 64 * 1024) }],
    },
  ]

  return {
    async start() {
      await admin.connect()
      const created = await ensureTopics(admin, wantedTopics(routes), config.createTopics)
      if (created.length > 0) log.info({ topics: created }, 'created output topics')
      await producer.connect()
      state.producerUp = true
      await consumer.connect()
      await consumer.subscribe({
        topics: 'pattern' in config.input ? [config.input.pattern] : [...config.input.topics],
        // A new group reads what is already there: audit events are never skipped.
        fromBeginning: true,
      })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
        eachBatch: async (payload) => {
          const { batch } = payload
          await processBatch(payload, {
            reader: {
              decodeAvro: (value) => codec.decode(value),
              adapters: config.adapters,
              policy: config.policy,
              redaction: config.redaction,
              maxEventBytes: config.maxEventBytes,
            },
            routes: () => routes,
            encode: (event) => codec.encode(event),
            dedup: dedupEnabled ? dedup : { has: () => false, remember: () => undefined, size: 0 },
            deadLetterTopic: config.deadLetterTopic,
            maxEventBytes: config.maxEventBytes,
            flushMaxBytes: config.flushMaxBytes,
            send: async (topicMessages) => {
              await producer.sendBatch({ topicMessages, acks: -1 })
            },
            commit: (topic, partition, offset) => consumer.commitOffsets([{ topic, partition, offset }]),
            stopping: stopping.signal,
            registryBackoff,
            onFlushed: (flush, topic, partition, seconds) => {
              const { tally } = flush
              metrics.consumed.inc({ topic }, tally.records)
              for (const [key, count] of tally.produced) {
                const [route = '', outputTopic = ''] = key.split('\t')
                metrics.produced.inc({ route, topic: outputTopic }, count)
              }
              for (const [key, count] of tally.dropped) {
                const [route = '', reason = ''] = key.split('\t')
                metrics.dropped.inc({ route, reason }, count)
              }
              for (const [reason, count] of tally.skipped) metrics.skipped.inc({ reason }, count)
              for (const [reason, count] of tally.deadLettered) metrics.deadLettered.inc({ reason }, count)
              if (tally.duplicates > 0) metrics.duplicates.inc(tally.duplicates)
              metrics.flushSeconds.observe(seconds)
              const ackedAtMs = Date.now()
              for (const timestampMs of flush.timestampsMs) {
                metrics.processingSeconds.observe(Math.max(0, ackedAtMs - timestampMs) / 1000)
              }
              if (tally.deadLettered.size > 0) {
                log.warn(
                  { topic, partition, deadLettered: Object.fromEntries(tally.deadLettered) },
                  'dead-lettered messages (audit-pipeline dlq list shows why)',
                )
              }
              log.debug(
                { topic, partition, records: tally.records, offset: flush.lastOffset, seconds },
                'flushed',
              )
            },
            onRegistryRetry: (error, attempt, delayMs) => {
              metrics.registryRetries.inc()
              log.warn(
                { err: error, topic: batch.topic, partition: batch.partition, attempt, delayMs },
                'schema registry unavailable; holding the partition and retrying',
              )
            },
            log,
            now,
          })
          const lastOffset = batch.messages.at(-1)?.offset
          if (lastOffset !== undefined) {
            const lag = Number(batch.highWatermark) - Number(lastOffset) - 1
            metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, lag))
          }
        },
      })
      log.info(
        {
          input: 'pattern' in config.input ? String(config.input.pattern) : config.input.topics,
          groupId: config.groupId,
          routes: config.routesFile,
          outputs: routeTopics(routes),
          deadLetterTopic: config.deadLetterTopic,
        },
        'normalizer started',
      )
    },

    async stop() {
      if (stopping.signal.aborted) return
      stopping.abort()
      log.info({ deadlineMs: config.shutdownDeadlineMs }, 'stopping: finishing the batch in flight')
      const deadline = new Promise<'deadline'>((resolve) => {
        setTimeout(() => resolve('deadline'), config.shutdownDeadlineMs).unref()
      })
      // kafkajs's disconnect waits for the running eachBatch: it sends, commits and returns.
      const outcome = await Promise.race([consumer.disconnect().then(() => 'done' as const), deadline])
      if (outcome === 'deadline') {
        log.error(
          { deadlineMs: config.shutdownDeadlineMs },
          'the batch in flight did not finish in time; its uncommitted messages will be read again',
        )
      }
      state.joined = false
      await producer.disconnect()
      state.producerUp = false
      await admin.disconnect()
      log.info('normalizer stopped')
    },

    async reloadRoutes() {
      let table: RouteTable
      try {
        table = loadRoutes(config.routesFile, readFile)
        const created = await ensureTopics(admin, wantedTopics(table), config.createTopics)
        if (created.length > 0) log.info({ topics: created }, 'created output topics')
      } catch (error) {
        metrics.routeReloads.inc({ result: 'refused' })
        log.error({ err: error, file: config.routesFile }, 'routes reload refused; the routes in force stay')
        return
      }
      routes = table
      metrics.routeReloads.inc({ result: 'applied' })
      log.info(
        { file: config.routesFile, routes: table.routes.length, outputs: routeTopics(table) },
        'routes reloaded',
      )
    },

    live: () => (state.crashed ? { ok: false, details: { crashed: state.crashed } } : { ok: true }),
    ready: () => ({
      ok: state.joined && state.producerUp && !stopping.signal.aborted,
      details: {
        consumerGroupJoined: state.joined,
        producerConnected: state.producerUp,
        stopping: stopping.signal.aborted,
      },
    }),
    routes: () => routes,
  }
}

function loadRoutes(file: string, readFile: (path: string) => string): RouteTable {
  let text: string
  try {
    text = readFile(file)
  } catch (error) {
    throw new Error(`NORMALIZER_ROUTES_FILE: cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  return parseRoutes(text, { file })
}
