import type { Kafka } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { renewingProducer, waitForKafka } from '@audit-pipeline/kafka'
import { checkHost, ipLiteralOf, type ResolveAll } from '@audit-pipeline/outbound'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import { destinationTopics, type ForwarderConfig } from './config.js'
import type { Destination } from './destinations/destination.js'
import type { ForwarderMetrics } from './metrics.js'
import { createDestinationWorker, type DestinationWorker } from './pipeline/destinationWorker.js'
import { createHttpTransport } from './senders/httpTransport.js'
import { createSyslogTransport } from './senders/syslogTransport.js'
import type { Transport } from './senders/transport.js'

export type ForwarderOptions = {
  config: ForwarderConfig
  destinations: readonly Destination[]
  kafka: Kafka
  codec: AuditEventCodec
  metrics: ForwarderMetrics
  log: Logger
  now?: () => number
  /** The resolver behind the address checks (start-up and every connect); tests give their own. */
  resolve?: ResolveAll
  /**
   * A destination's consumer failed for longer than KAFKA_OUTAGE_GIVE_UP_MS (by default it never
   * gives up): the process should exit (main.ts does). Nothing else ends the forwarder: a
   * failure while delivering restarts that destination from its last commit.
   */
  onGiveUp?: (error: unknown) => void
}

export type Forwarder = {
  /**
   * Checks destination hosts and topics (waiting out an unavailable Kafka), then starts every
   * destination. Throws ForwarderStartError naming what to fix when it cannot start.
   */
  start(): Promise<void>
  /** Stops every destination: in-flight batches finish and commit within the deadline. */
  stop(): Promise<void>
  live(): CheckReport
  ready(): CheckReport
}

/** The forwarder refused to start, naming what to fix. */
export class ForwarderStartError extends Error {
  override readonly name = 'ForwarderStartError'
}

/**
 * Delivers the forwarded topics to every configured destination, each independently on its own
 * consumer runtime (destinationWorker.ts), and writes dead letters through one shared idempotent
 * producer.
 */
export function createForwarder(options: ForwarderOptions): Forwarder {
  const { config, destinations, kafka, codec, metrics, log } = options
  const producer = renewingProducer(
    () => kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }),
    log,
  )
  const workers: DestinationWorker[] = destinations.map((destination) => {
    const names = destinationTopics(config, destination.name)
    return createDestinationWorker({
      destination,
      topics: { input: inputTopicsOf(destination, config), ...names },
      kafka,
      producer,
      codec,
      transport: transportFor(destination, options.resolve),
      metrics,
      log,
      sessionTimeoutMs: config.sessionTimeoutMs,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
      consumer: config.consumer,
      stopDeadlineMs: config.shutdownDeadlineMs,
      ...(options.now && { now: options.now }),
      ...(options.onGiveUp && { onGiveUp: options.onGiveUp }),
    })
  })
  let started = false
  let stopped = false
  /** Aborted by stop: a start still waiting for Kafka gives up waiting. */
  const stopping = new AbortController()

  return {
    async start() {
      await refusePrivateHosts(destinations, options.resolve, log)
      // A forwarder started before its broker (or during a restart of it) comes up when Kafka does;
      // missing input topics are the operator's to fix and stop the start at once.
      await waitForKafka(
        'prepare the topics',
        async () => {
          await prepareTopics(kafka, config, destinations, log)
          await producer.connect()
        },
        { log, outage: config.consumer.outage, signal: stopping.signal },
      )
      started = true
      // Stopped while the last attempt went through: start nothing that stop would not stop.
      if (stopping.signal.aborted) {
        await producer.disconnect()
        return
      }
      await Promise.all(workers.map((worker) => worker.start()))
      log.info(
        {
          destinations: destinations.map((d) => `${d.name} (${d.kind}, ${d.input})`),
          input: [...new Set(destinations.flatMap((d) => inputTopicsOf(d, config)))],
        },
        'forwarder started',
      )
    },
    async stop() {
      if (stopped) return
      stopped = true
      stopping.abort()
      log.info({ deadlineMs: config.shutdownDeadlineMs }, 'stopping: finishing the batches in flight')
      // Each destination stops within the deadline; they stop side by side.
      const results = await Promise.allSettled(workers.map((worker) => worker.stop()))
      for (const [index, result] of results.entries()) {
        if (result.status === 'rejected')
          log.error(
            { err: result.reason, destination: workers[index]?.name },
            'stopping a destination failed',
          )
      }
      if (started) await producer.disconnect()
      log.info('forwarder stopped')
    },
    live: () => combine(workers, (worker) => worker.live()),
    ready: () => combine(workers, (worker) => worker.ready()),
  }
}

/** What a destination reads: the forwarded topics, or the sink's checkpoints topic. */
function inputTopicsOf(destination: Destination, config: ForwarderConfig): readonly string[] {
  return destination.input === 'checkpoints' ? [config.checkpointTopic] : config.inputTopics
}

function transportFor(destination: Destination, resolve: ResolveAll | undefined): Transport {
  const options = resolve ? { resolve } : {}
  return destination.kind === 'syslog'
    ? createSyslogTransport(destination, options)
    : createHttpTransport(destination, options)
}

function combine(
  workers: readonly DestinationWorker[],
  check: (worker: DestinationWorker) => CheckReport,
): CheckReport {
  const reports = workers.map((worker) => [worker.name, check(worker)] as const)
  return { ok: reports.every(([, report]) => report.ok), details: Object.fromEntries(reports) }
}

/**
 * Resolves each destination's host once before starting, so a host that resolves to a private
 * address the destination is not allowed stops the start with its name, instead of every batch
 * failing later. (Each connection is checked again: DNS answers change.) A name that does not
 * resolve now is only logged: DNS may be down for a moment.
 */
async function refusePrivateHosts(
  destinations: readonly Destination[],
  resolve: ResolveAll | undefined,
  log: Logger,
): Promise<void> {
  const refusals: string[] = []
  await Promise.all(
    destinations.map(async (destination) => {
      const host = destination.kind === 'syslog' ? destination.host : destination.url.hostname
      if (ipLiteralOf(host) !== undefined) return // literals were checked with the file
      try {
        const refusal = await checkHost(host, destination.outbound, resolve)
        if (refusal) refusals.push(`destination ${destination.name}: ${refusal.message}`)
      } catch (error) {
        log.warn(
          { destination: destination.name, host, err: error },
          'destination host does not resolve now; checked again on each connection',
        )
      }
    }),
  )
  if (refusals.length > 0) throw new ForwarderStartError(refusals.sort().join('\n'))
}

/**
 * The largest message the forwarder's own topics take, bytes: an input record at Kafka's default
 * limit (1 MiB) plus room for the headers a dead letter adds. A dead letter the topic refused
 * would fail its batch on every restart: the partition would never go on.
 */
const ownTopicMaxMessageBytes = 1024 * 1024 + 64 * 1024

/**
 * The input topics must exist (the normalizer creates them), and so must the checkpoints topic
 * when a destination reads it (the ClickHouse sink creates it; it is the sink's to configure,
 * compacted, so the forwarder never makes it); each destination's dead-letter and retry topics are
 * created when missing (FORWARDER_CREATE_TOPICS), since they are the forwarder's own. Without
 * them the idempotent producer would retry a dead letter for ever.
 */
async function prepareTopics(
  kafka: Kafka,
  config: ForwarderConfig,
  destinations: readonly Destination[],
  log: Logger,
): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const reads = (input: Destination['input']) => destinations.some((d) => d.input === input)
    const missingInput = reads('events') ? config.inputTopics.filter((topic) => !existing.has(topic)) : []
    if (missingInput.length > 0) {
      throw new ForwarderStartError(
        `input topics missing: ${missingInput.join(', ')} (FORWARDER_INPUT_TOPICS); create them, or start the normalizer, which creates its outputs`,
      )
    }
    if (reads('checkpoints') && !existing.has(config.checkpointTopic)) {
      throw new ForwarderStartError(
        `checkpoints topic missing: ${config.checkpointTopic} (FORWARDER_CHECKPOINT_TOPIC); start the ClickHouse sink with a signing key, which creates it (its SINK_CHECKPOINT_TOPIC), or name the topic it writes`,
      )
    }
    const own = destinations.flatMap((d) => {
      const names = destinationTopics(config, d.name)
      return [names.deadLetterTopic, names.retryTopic]
    })
    const missing = own.filter((topic) => !existing.has(topic))
    if (missing.length === 0) return
    if (!config.createTopics) {
      throw new ForwarderStartError(
        `topics missing: ${missing.join(', ')}; create them or set FORWARDER_CREATE_TOPICS=true`,
      )
    }
    await admin.createTopics({
      topics: missing.map((topic) => ({
        topic,
        numPartitions: config.topicPartitions,
        configEntries: [{ name: 'max.message.bytes', value: String(ownTopicMaxMessageBytes) }],
      })),
      waitForLeaders: true,
    })
    log.info({ topics: missing }, 'created dead-letter and retry topics')
  } finally {
    await admin.disconnect()
  }
}
