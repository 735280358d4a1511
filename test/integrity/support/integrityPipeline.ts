import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, type Message } from 'kafkajs'
import { expect, onTestFailed, onTestFinished } from 'vitest'
import { createAuditEventCodec, type AuditEventCodec } from '@audit-pipeline/codec'
import { readDeadLetter, type DeadLetter } from '@audit-pipeline/dead-letter'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { createAuditProducer, type AuditProducer } from '@audit-pipeline/producer'
import {
  collectTopics,
  testSigningKeyFile,
  uniqueName,
  waitFor,
  waitForCommittedToEnd,
  type CollectedMessage,
  type StackEndpoints,
  type TopicCollector,
} from '@audit-pipeline/testing'
import {
  newWebhookSecret,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../alerting/support/webhookReceiver.js'
import { buildPackage, startServiceProcess, type ServiceProcess } from '../../support/serviceProcess.js'

const root = join(import.meta.dirname, '..', '..', '..')

const bins = {
  normalizer: 'services/normalizer/bin/audit-normalizer.js',
  sink: 'services/clickhouse-sink/bin/audit-clickhouse-sink.js',
  alerting: 'services/alerting/bin/audit-alerting.js',
} as const
export type ServiceName = keyof typeof bins

/** Builds the three services the integrity tests run (turbo: about a second each when nothing changed). */
export function buildIntegrityServices(): void {
  for (const name of ['normalizer', 'clickhouse-sink', 'alerting']) buildPackage(`@audit-pipeline/${name}`)
}

/** The rule the ticket story's third event (priority lowered from Urgent by an agent) fires. */
export const priorityLoweredRule = 'priority-lowered-by-non-supervisor'

/** Only that rule (deploy/alerting/rules.yaml's), so no other rule adds alerts a test would have to tell apart. */
const rules = `rules:
  - id: ${priorityLoweredRule}
    kind: change
    severity: warning
    description: Priority lowered from Urgent by someone without the supervisor role
    filter: '!("supervisor" in event.actor.roles)'
    field: priority
    from: [Urgent]
    to: [High, Normal, Low]
    groupBy: event.object.id
`

export type PipelineTopics = {
  /** What producers write to: the normalizer's input. */
  input: string
  /** The normalizer's one route; the sink and the alerting service read it. */
  normalized: string
  /** The normalizer's and the sink's dead letters; the alerting service's conflict input. */
  deadLetters: string
  /** The alerting service's alerts; the sink's alert topic. */
  alerts: string
  /** The alerting service's own dead letters (undecodable input), kept apart from the conflicts it reads. */
  alertingDeadLetters: string
  /** Where the sink copies its signed checkpoints (it creates it). */
  checkpoints: string
}

/** What the test's collectors have read so far (each from the beginning of its topic). */
export type Seen = {
  normalized: TopicCollector
  deadLetters: TopicCollector
  alerts: TopicCollector
  checkpoints: TopicCollector
}

export type IntegrityPipeline = {
  readonly topics: PipelineTopics
  readonly codec: AuditEventCodec
  /** The producer SDK on the input topic: resolves with each event as sent (what the normalizer digests). */
  readonly producer: AuditProducer
  /** A local webhook receiver every alert is delivered to, signatures verified. */
  readonly webhooks: WebhookReceiver
  /** The collectors, started by the first `start`. */
  readonly seen: Seen
  /** Starts the normalizer, the ClickHouse sink and the alerting service, each its own process, and waits until each is ready. */
  start(): Promise<void>
  /** SIGTERM to every service at once; each finishes its batch, commits and exits 0. */
  stop(): Promise<void>
  /** Sends messages straight to a topic, bypassing the producer SDK and the normalizer (a forger's way in). */
  sendRaw(topic: string, messages: Message[]): Promise<void>
  /** The sum of a metric's series (those whose labels include `labels`) on a running service's /metrics. */
  metric(name: ServiceName, metric: string, labels?: Record<string, string>): Promise<number>
  /** Waits until the normalizer's group has committed the end of the input topic: every message taken, dead letters acknowledged. */
  waitForNormalizerToFinish(timeoutMs?: number): Promise<void>
  /** Waits until the sink's group has committed past each of these messages (on its input topics): each stored, refused or dead-lettered. */
  waitForSinkToRead(messages: readonly CollectedMessage[], timeoutMs?: number): Promise<void>
  /** Waits until the dead-letter collector has read the whole topic (it is written without transactions: end offset = letters). */
  waitForEveryDeadLetter(timeoutMs?: number): Promise<DeadLetter[]>
  /** The messages a collector read from a topic of events (normalized, alerts), decoded. */
  decoded(collector: TopicCollector): Promise<{ message: CollectedMessage; event: AuditEvent }[]>
  /** Runs queries on the sink's ClickHouse, one result per query. With embedded ClickHouse the sink must be stopped (one process per data folder). */
  query(sql: readonly string[]): Record<string, unknown>[][]
}

/**
 * The pipeline the integrity guarantees live in, with topics, groups, database and webhook of the
 * calling test's own: the normalizer (input → normalized, dead letters), the ClickHouse sink
 * (normalized and alerts → ClickHouse, its hash chain and signed checkpoints; dead letters) and the
 * alerting service (rules over normalized, conflict alerts from the dead letters → alerts → the
 * webhook), each its own process from its build, so each can be stopped and started again. Embedded
 * ClickHouse (the default) lives in a folder of the test's own; with a ClickHouse server
 * (CLICKHOUSE_URL for the run) the test gets a database of its own there.
 */
export async function createIntegrityPipeline(
  stack: StackEndpoints,
  options: {
    /** SINK_CHECKPOINT_INTERVAL_MS; default 500 here, so tests see checkpoints made by time. */
    checkpointIntervalMs?: number
    /** SINK_CHECKPOINT_MAX_ENTRIES; the sink's default unless given. */
    checkpointMaxEntries?: number
    /** More settings of the normalizer (a levels or redaction policy file, say). */
    normalizerEnv?: Record<string, string>
  } = {},
): Promise<IntegrityPipeline> {
  const kafka = new Kafka({
    clientId: 'integrity-test',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  })
  const topics: PipelineTopics = {
    input: uniqueName('integrity_in'),
    normalized: uniqueName('integrity_normalized'),
    deadLetters: uniqueName('integrity_dlq'),
    alerts: uniqueName('integrity_alerts'),
    alertingDeadLetters: uniqueName('integrity_alerting_dlq'),
    checkpoints: uniqueName('integrity_checkpoints'),
  }
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({
      topics: [
        topics.input,
        topics.normalized,
        topics.deadLetters,
        topics.alerts,
        topics.alertingDeadLetters,
      ].map((topic) => ({ topic, numPartitions: 3 })),
      waitForLeaders: true,
    })
  } finally {
    await admin.disconnect()
  }

  const dir = mkdtempSync(join(tmpdir(), 'integrity-'))
  const clickhouse: { where: string; database: string; env: Record<string, string> } = stack.clickhouseUrl
    ? {
        where: stack.clickhouseUrl,
        database: uniqueName('integrity'),
        env: { CLICKHOUSE_URL: stack.clickhouseUrl },
      }
    : {
        where: join(dir, 'clickhouse'),
        database: 'audit',
        env: { CLICKHOUSE_EMBEDDED_PATH: join(dir, 'clickhouse') },
      }
  writeFileSync(join(dir, 'routes.yaml'), `default:\n  to: [${topics.normalized}]\n`)
  writeFileSync(join(dir, 'rules.yaml'), rules)
  const secret = newWebhookSecret()
  const webhooks = await startWebhookReceiver(secret)
  writeFileSync(
    join(dir, 'receivers.yaml'),
    `receivers:\n  - name: ops\n    url: ${webhooks.url}\n    secretEnv: INTEGRITY_WEBHOOK_SECRET\n    allowedPrivateAddresses: [127.0.0.1]\n`,
  )

  const common = {
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    OPS_PORT: '0',
    LOG_LEVEL: 'info',
  }
  const env: Record<ServiceName, Record<string, string>> = {
    normalizer: {
      ...common,
      NORMALIZER_INPUT_TOPICS: topics.input,
      NORMALIZER_GROUP_ID: uniqueName('integrity-normalizer'),
      NORMALIZER_ROUTES_FILE: join(dir, 'routes.yaml'),
      NORMALIZER_DEAD_LETTER_TOPIC: topics.deadLetters,
      // The broker's minimum: a stopped instance's partitions move at once anyway (it leaves the group).
      NORMALIZER_SESSION_TIMEOUT_MS: '6000',
      NORMALIZER_SHUTDOWN_DEADLINE_MS: '5000',
      ...options.normalizerEnv,
    },
    sink: {
      ...common,
      ...clickhouse.env,
      CLICKHOUSE_DATABASE: clickhouse.database,
      SINK_INPUT_TOPICS: `${topics.normalized},${topics.alerts}`,
      SINK_ALERT_TOPICS: topics.alerts,
      // No access topic in this pipeline: one of the test's own, so no other test's records count.
      SINK_ACCESS_TOPICS: uniqueName('integrity_access'),
      SINK_GROUP_ID: uniqueName('integrity-sink'),
      SINK_DEAD_LETTER_TOPIC: topics.deadLetters,
      SINK_BATCH_MAX_AGE_MS: '200',
      SINK_SESSION_TIMEOUT_MS: '6000',
      SINK_SHUTDOWN_DEADLINE_MS: '5000',
      SINK_SIGNING_KEY_FILE: testSigningKeyFile(),
      SINK_CHECKPOINT_TOPIC: topics.checkpoints,
      SINK_CHECKPOINT_INTERVAL_MS: String(options.checkpointIntervalMs ?? 500),
      ...(options.checkpointMaxEntries !== undefined && {
        SINK_CHECKPOINT_MAX_ENTRIES: String(options.checkpointMaxEntries),
      }),
    },
    alerting: {
      ...common,
      ALERTING_INPUT_TOPICS: topics.normalized,
      ALERTING_ALERTS_TOPIC: topics.alerts,
      ALERTING_STATE_TOPIC: uniqueName('integrity_alerting_state'),
      ALERTING_DEAD_LETTER_TOPIC: topics.alertingDeadLetters,
      // Conflicts this test's services dead-letter raise its alerts; no other test's.
      ALERTING_CONFLICT_INPUT_TOPICS: topics.deadLetters,
      ALERTING_GROUP_ID: uniqueName('integrity-alerting'),
      ALERTING_START_FROM: 'earliest',
      ALERTING_RULES_FILE: join(dir, 'rules.yaml'),
      ALERTING_RECEIVERS_FILE: join(dir, 'receivers.yaml'),
      ALERTING_RETRY_MAX_DELAY_MS: '500',
      ALERTING_SESSION_TIMEOUT_MS: '6000',
      ALERTING_SHUTDOWN_DEADLINE_MS: '5000',
      INTEGRITY_WEBHOOK_SECRET: secret,
    },
  }

  const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl })
  const codec = await createAuditEventCodec({ registry })
  const producer = await createAuditProducer({
    kafka,
    registry,
    topic: topics.input,
    defaults: { source: { service: 'integrity-test' } },
  })
  onTestFinished(() => producer.close())
  const rawProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await rawProducer.connect()
  onTestFinished(() => rawProducer.disconnect())

  const running = new Map<ServiceName, ServiceProcess>()
  const opsUrls = new Map<ServiceName, string>()
  const everyProcess: ServiceProcess[] = []
  const processNames = new Map<ServiceProcess, ServiceName>()
  // A failed test shows what the services complained of, and keeps their whole logs for reading.
  onTestFailed(() => {
    const logDir = mkdtempSync(join(tmpdir(), 'integrity-logs-'))
    const lines = everyProcess.flatMap((service) => {
      const name = `${processNames.get(service)} (pid ${service.pid})`
      writeFileSync(
        join(logDir, `${processNames.get(service)}-${service.pid}.log`),
        [...service.logs.map((line) => JSON.stringify(line)), ...service.otherOutput].join('\n'),
      )
      return [
        ...service.logs
          .filter((line) => line.level === 'warn' || line.level === 'error' || line.level === 'fatal')
          .filter((line) => line['component'] !== 'kafkajs')
          .map((line) => `${name}: ${JSON.stringify(line)}`),
        ...service.otherOutput.map((line) => `${name}: ${line}`),
      ]
    })
    console.log(
      `[integrity pipeline] the services' warnings and errors (kafkajs's left out; every log in ${logDir}):\n${lines.slice(-40).join('\n')}`,
    )
  })
  let seen: Seen | undefined
  // Whatever the test did: every process it started gone (killed if still running, by its PID),
  // then the data folder removed (or the test's database dropped).
  onTestFinished(async () => {
    for (const started of everyProcess) {
      if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL')
      await started.exited
    }
    if (stack.clickhouseUrl) {
      execFileSync(
        process.execPath,
        [
          'test/integrity/support/queryStorageBatch.mjs',
          clickhouse.where,
          'default',
          JSON.stringify([`DROP DATABASE IF EXISTS ${clickhouse.database}`]),
        ],
        { cwd: root },
      )
    }
    rmSync(dir, { recursive: true, force: true })
  })

  const startOne = async (name: ServiceName) => {
    const started = startServiceProcess(bins[name], env[name])
    everyProcess.push(started)
    processNames.set(started, name)
    running.set(name, started)
    const ready = await started.waitForLog('ready', 90_000)
    opsUrls.set(name, String(ready['metrics']).replace(/\/metrics$/, ''))
  }

  const committedPast = async (groupId: string, wanted: Map<string, bigint>): Promise<boolean> => {
    const groupAdmin = kafka.admin()
    await groupAdmin.connect()
    try {
      const byTopic = new Map<string, { partition: number; next: bigint }[]>()
      for (const [key, next] of wanted) {
        const [topic, partition] = key.split('\u0000') as [string, string]
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition: Number(partition), next }])
      }
      const committed = await groupAdmin.fetchOffsets({ groupId, topics: [...byTopic.keys()] })
      return [...byTopic].every(([topic, partitions]) =>
        partitions.every(({ partition, next }) => {
          const offset = committed
            .find((entry) => entry.topic === topic)
            ?.partitions.find((entry) => entry.partition === partition)?.offset
          return offset !== undefined && offset !== '-1' && BigInt(offset) >= next
        }),
      )
    } finally {
      await groupAdmin.disconnect()
    }
  }

  const pipeline: IntegrityPipeline = {
    topics,
    codec,
    producer,
    webhooks,
    get seen() {
      if (!seen) throw new Error('the collectors start with the pipeline: call start() first')
      return seen
    },
    async start() {
      if (running.size > 0) throw new Error('the pipeline is running already')
      await Promise.all((Object.keys(bins) as ServiceName[]).map(startOne))
      if (!seen) {
        // The checkpoints topic exists once the sink is ready (it creates it at start-up).
        const collectors = await Promise.all(
          [topics.normalized, topics.deadLetters, topics.alerts, topics.checkpoints].map((topic) =>
            collectTopics(kafka, [topic]),
          ),
        )
        for (const collector of collectors) onTestFinished(() => collector.stop())
        const [normalized, deadLetters, alerts, checkpoints] = collectors as [
          TopicCollector,
          TopicCollector,
          TopicCollector,
          TopicCollector,
        ]
        seen = { normalized, deadLetters, alerts, checkpoints }
      }
    },
    async stop() {
      const stopping = [...running.values()]
      running.clear()
      opsUrls.clear()
      for (const service of stopping) service.child.kill('SIGTERM')
      const codes = await Promise.all(stopping.map((service) => service.exited))
      expect(
        codes,
        `every service exits 0 on SIGTERM; last output:\n${stopping
          .flatMap((service) => [
            ...service.logs.slice(-5).map((line) => JSON.stringify(line)),
            ...service.otherOutput.slice(-5),
          ])
          .join('\n')}`,
      ).toEqual(stopping.map(() => 0))
    },
    async sendRaw(topic, messages) {
      await rawProducer.send({ topic, acks: -1, messages })
    },
    async metric(name, metric, labels = {}) {
      const url = opsUrls.get(name)
      if (!url) throw new Error(`${name} is not running`)
      const text = await (await fetch(`${url}/metrics`)).text()
      let sum = 0
      for (const line of text.split('\n')) {
        const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line)
        if (!match || match[1] !== metric) continue
        const series = match[2] ?? ''
        if (Object.entries(labels).every(([label, value]) => series.includes(`${label}="${value}"`))) {
          sum += Number(match[3])
        }
      }
      return sum
    },
    waitForNormalizerToFinish: (timeoutMs = 60_000) =>
      waitForCommittedToEnd(kafka, env.normalizer['NORMALIZER_GROUP_ID']!, topics.input, timeoutMs),
    async waitForSinkToRead(messages, timeoutMs = 60_000) {
      const wanted = new Map<string, bigint>()
      for (const { topic, partition, offset } of messages) {
        const key = `${topic}\u0000${partition}`
        const next = BigInt(offset) + 1n
        if ((wanted.get(key) ?? 0n) < next) wanted.set(key, next)
      }
      await waitFor(() => committedPast(env.sink['SINK_GROUP_ID']!, wanted), {
        timeoutMs,
        intervalMs: 200,
        description: `the sink to commit past ${messages.length} messages`,
      })
    },
    async waitForEveryDeadLetter(timeoutMs = 60_000) {
      const collector = pipeline.seen.deadLetters
      const waitAdmin = kafka.admin()
      await waitAdmin.connect()
      try {
        const ends = await waitAdmin.fetchTopicOffsets(topics.deadLetters)
        const total = ends.reduce((sum, end) => sum + Number(end.high), 0)
        await waitFor(() => collector.messages.length >= total, {
          timeoutMs,
          description: `all ${total} dead letters read`,
        })
      } finally {
        await waitAdmin.disconnect()
      }
      return collector.messages.map((message) =>
        readDeadLetter(message, {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
        }),
      )
    },
    async decoded(collector) {
      const events: { message: CollectedMessage; event: AuditEvent }[] = []
      for (const message of collector.messages) {
        if (message.value !== null) events.push({ message, event: await codec.decode(message.value) })
      }
      return events
    },
    query(sql) {
      if (!stack.clickhouseUrl && running.has('sink')) {
        throw new Error('embedded ClickHouse is held by the running sink: stop the pipeline first')
      }
      const out = execFileSync(
        process.execPath,
        [
          'test/integrity/support/queryStorageBatch.mjs',
          clickhouse.where,
          clickhouse.database,
          JSON.stringify(sql),
        ],
        { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      )
      return out
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>[])
    },
  }
  return pipeline
}
