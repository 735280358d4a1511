import { readFileSync } from 'node:fs'
import type { Admin, Kafka } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { ConfigError } from '@audit-pipeline/config'
import type { KeyStore } from '@audit-pipeline/field-encryption'
import { createConsumerRuntime, renewingProducer, waitForKafka } from '@audit-pipeline/kafka'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import type { NormalizerConfig } from './config.js'
import { createDedupWindow, noDedupWindow, type DedupWindow } from './delivery/dedupWindow.js'
import { ensureTopics, type TopicRequest } from './delivery/ensureTopics.js'
import { normalizerSteps, type Flush } from './delivery/normalizerSteps.js'
import type { NormalizerMetrics } from './metrics.js'
import { openFieldKeyStore } from './redaction/openFieldKeyStore.js'
import { policyEncrypts } from './redaction/redactionPolicy.js'
import { parseRoutes } from './routing/parseRoutes.js'
import type { RouteTable } from './routing/routeTable.js'
import { routeTopics } from './routing/routeTopics.js'
import { createContentDigests, type ContentDigests } from './digests/contentDigests.js'

export type NormalizerOptions = {
  config: NormalizerConfig
  kafka: Kafka
  codec: AuditEventCodec
  metrics: NormalizerMetrics
  log: Logger
  /**
   * The key store of tenants whose redaction policy encrypts. Default: the local store of
   * `config.fieldKeys` (FIELD_KEYS_DIR, FIELD_KEYS_KEK_FILE), opened by `start()`.
   */
  fieldKeys?: KeyStore
  /** Reads the routes file, at start and on reload. Default: from disk. */
  readFile?: (path: string) => string
  now?: () => Date
  /**
   * The content digests events are deduplicated and checked for conflicts by. Default: the
   * trail's (packages/integrity), a flush's on a worker thread (digests/contentDigests.ts). The
   * benchmark replaces them to measure what they cost.
   */
  contentDigests?: ContentDigests
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

/**
 * The normalizer on the consumer runtime (packages/kafka): the runtime reads, holds partitions
 * through outages and restarts from the last commit after a failure; the steps
 * (delivery/normalizerSteps.ts) normalize, route, send and commit.
 */
export function createNormalizer(options: NormalizerOptions): Normalizer {
  const { config, kafka, codec, metrics, log } = options
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'))
  const now = options.now ?? (() => new Date())
  // loadNormalizerConfig refuses this already; a config built by hand is caught here, not at the first event to seal.
  if (policyEncrypts(config.redaction) && options.fieldKeys === undefined && config.fieldKeys === undefined) {
    throw new ConfigError([
      {
        setting: 'FIELD_KEYS_DIR',
        message:
          'the redaction policy encrypts: set FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE, or give the normalizer a key store',
      },
    ])
  }
  let fieldKeys = options.fieldKeys

  let routes = loadRoutes(config.routesFile, readFile)
  const dedupEnabled = config.dedupWindowMs > 0
  const dedup: DedupWindow = dedupEnabled
    ? createDedupWindow({ windowMs: config.dedupWindowMs, maxIds: config.dedupMaxIds })
    : noDedupWindow
  const state = { producerUp: false, stopping: false }
  /** Made with the first steps (its worker thread with it) and closed by stop(). */
  let digests: ContentDigests | undefined
  const digestsInUse = (): ContentDigests =>
    (digests ??=
      options.contentDigests ??
      createContentDigests({
        onWorkerError: (error) =>
          log.warn(
            { err: error },
            'the content digest worker failed; this flush was digested on the main thread',
          ),
      }))

  const producer = renewingProducer(
    () =>
      kafka.producer({
        idempotent: true,
        // One request in flight per broker: retries cannot reorder one object's events.
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      }),
    log,
  )
  const admin: Admin = kafka.admin()

  const runtime = createConsumerRuntime({
    kafka,
    log,
    metrics: metrics.consumer,
    group: {
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      // Fetch returns once data is there; this bounds the wait on an idle partition.
      maxWaitTimeInMs: 250,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
    },
    // A new group reads what is already there: audit events are never skipped.
    subscription: {
      topics: 'pattern' in config.input ? [config.input.pattern] : [...config.input.topics],
      fromBeginning: true,
    },
    outage: config.consumer.outage,
    deadLetterGuard: config.consumer.deadLetterGuard,
    stopDeadlineMs: config.shutdownDeadlineMs,
    createSteps: (context) =>
      normalizerSteps(
        {
          reader: {
            decodeAvro: (value) => codec.decode(value),
            adapters: config.adapters,
            policy: config.policy,
            levels: config.levels,
            redaction: config.redaction,
            fieldKeys,
            maxEventBytes: config.maxEventBytes,
          },
          routes: () => routes,
          encode: (event) => codec.encode(event),
          digests: digestsInUse(),
          dedup,
          deadLetterTopic: config.deadLetterTopic,
          maxEventBytes: config.maxEventBytes,
          flushMaxBytes: config.flushMaxBytes,
          maxFlushesInFlight: config.partitionsConsumedConcurrently,
          send: async (topicMessages) => {
            await producer.sendBatch({ topicMessages, acks: -1 })
          },
          onFlushed: (flush, seconds) => reportFlush(flush, seconds),
          log,
          now,
        },
        context,
      ),
  })

  /** One telemetry call per flush: the counters and the log lines cannot disagree. */
  const reportFlush = ({ pending, consumedByTopic }: Flush, seconds: number) => {
    const { tally } = pending
    for (const [topic, count] of consumedByTopic) metrics.consumed.inc({ topic }, count)
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
    for (const [key, count] of tally.reduced) {
      const [temporal = '', informative = ''] = key.split('\t')
      metrics.reduced.inc({ temporal, informative }, count)
    }
    metrics.flushSeconds.observe(seconds)
    const ackedAtMs = Date.now()
    for (const timestampMs of pending.timestampsMs) {
      metrics.processingSeconds.observe(Math.max(0, ackedAtMs - timestampMs) / 1000)
    }
    if (tally.deadLettered.size > 0) {
      log.warn(
        { deadLettered: Object.fromEntries(tally.deadLettered) },
        'dead-lettered messages (audit-pipeline dlq list shows why)',
      )
    }
    log.debug({ records: tally.records, seconds }, 'flushed')
  }

  const wantedTopics = (table: RouteTable): TopicRequest[] => [
    ...routeTopics(table).map((topic) => ({ topic })),
    {
      topic: config.deadLetterTopic,
      configEntries: [{ name: 'max.message.bytes', value: String(deadLetterMaxMessageBytes(config)) }],
    },
  ]

  return {
    async start() {
      // First: a key-encryption key that does not read is a ConfigError (exit code 2), found
      // before any waiting for Kafka. The steps are created after this, with the store.
      if (fieldKeys === undefined && config.fieldKeys !== undefined) {
        fieldKeys = await openFieldKeyStore(config.fieldKeys)
      }
      await waitForKafka(
        'create the output topics',
        async () => {
          await admin.connect()
          const created = await ensureTopics(admin, wantedTopics(routes), config.createTopics)
          if (created.length > 0) log.info({ topics: created }, 'created output topics')
          await producer.connect()
        },
        { log, outage: config.consumer.outage },
      )
      state.producerUp = true
      await runtime.start()
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
      if (state.stopping) return
      state.stopping = true
      log.info({ deadlineMs: config.shutdownDeadlineMs }, 'stopping: finishing the batch in flight')
      await runtime.stop()
      await producer.disconnect()
      state.producerUp = false
      await admin.disconnect()
      await digests?.close()
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

    live: () => runtime.live(),
    ready: () => {
      const consumer = runtime.ready()
      const ok = consumer.ok && state.producerUp && !state.stopping
      return {
        ok,
        details: { ...consumer.details, producerConnected: state.producerUp, stopping: state.stopping },
      }
    },
    routes: () => routes,
  }
}

/** Kafka's default `message.max.bytes`: how large an input message can be unless operators raised it. */
const kafkaDefaultMaxMessageBytes = 1_048_588

/**
 * Room for the largest dead letter: the original bytes plus headers (the error message alone may
 * take 4 KiB). A message over NORMALIZER_MAX_EVENT_BYTES is dead-lettered whole, so the room is
 * for the largest input message, not for the limit: a dead letter the topic refused would fail
 * its flush on every attempt and hold the partition for good. A sealed dead letter (a tenant
 * that encrypts) is 28 bytes larger, with its sealed error message beside it: both well inside.
 */
function deadLetterMaxMessageBytes(config: NormalizerConfig): number {
  return Math.max(config.maxEventBytes, kafkaDefaultMaxMessageBytes) + 64 * 1024
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
