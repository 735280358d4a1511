import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, type Admin } from 'kafkajs'
import { Registry } from 'prom-client'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import {
  createNormalizer,
  type ContentDigests,
  createNormalizerMetrics,
  loadNormalizerConfig,
  type NormalizerConfig,
} from '@audit-pipeline/normalizer'
import { createLogger } from '@audit-pipeline/service-runtime'
import { waitUntilCommitted } from './committedOffsets.js'
import { cpuProfiled, type CpuProfileSummary } from './cpuProfile.js'
import { measured, type Measured } from './measured.js'
import { watchProducersOf, type ProduceRequests } from './produceRequests.js'

export type NormalizerRun = Measured & {
  config: NormalizerConfig
  /** Input messages the normalizer counted as done (acknowledged and committed). */
  consumed: number
  deadLettered: number
  /** Each flush: send the pending outputs with acks=all, then commit (audit_normalizer_flush_seconds). */
  flushes: { count: number; totalSeconds: number }
  produce: ProduceRequests
  /** When asked for: a CPU profile of the timed part. */
  profile?: CpuProfileSummary
}

/** The routes file the bench runs with: every event to `outputs`. */
export function benchRoutes(outputs: readonly string[]): string {
  return `default:\n  to: [${outputs.join(', ')}]\n`
}

/**
 * The normalizer in this process, built as services/normalizer/src/main.ts builds it (its config
 * loader, a codec without its own size limit, its metrics and logger), reading `input` with a
 * fresh group and routing every event to `outputs`. Timed from `start()` until the group's
 * committed offsets reach `ends`. The output and dead-letter topics exist already, so `start()`
 * only checks them. NORMALIZER_* variables in `overrides` (the bench's environment) apply too.
 * With `profile`, the timed part runs under the CPU profiler, which slows it.
 */
export async function normalizerRun(options: {
  brokers: string[]
  registryUrl: string
  admin: Admin
  input: string
  ends: Map<number, bigint>
  outputs: readonly string[]
  deadLetterTopic: string
  groupId: string
  overrides: Record<string, string>
  /** Profile the timed part's CPU (and save the whole profile to `saveTo`). */
  profile?: { saveTo?: string }
  /** Replace the content digest by a constant: the baseline that measures what digests cost. */
  withoutDigests?: boolean
}): Promise<NormalizerRun> {
  const dir = mkdtempSync(join(tmpdir(), 'audit-bench-normalizer-'))
  const routesFile = join(dir, 'routes.yaml')
  writeFileSync(routesFile, benchRoutes(options.outputs))
  try {
    const config = loadNormalizerConfig({
      ...options.overrides,
      KAFKA_BROKERS: options.brokers.join(','),
      SCHEMA_REGISTRY_URL: options.registryUrl,
      NORMALIZER_INPUT_TOPICS: options.input,
      NORMALIZER_GROUP_ID: options.groupId,
      NORMALIZER_ROUTES_FILE: routesFile,
      NORMALIZER_DEAD_LETTER_TOPIC: options.deadLetterTopic,
      OPS_PORT: '0',
    })
    const codec = await createAuditEventCodec({
      registry: new SchemaRegistry({ host: config.schemaRegistry.url }),
      autoRegister: config.autoRegisterSchema,
      maxEventBytes: Number.MAX_SAFE_INTEGER,
    })
    const registry = new Registry()
    const kafka = new Kafka({
      clientId: config.kafka.clientId,
      brokers: config.kafka.brokers,
      logLevel: logLevel.NOTHING,
    })
    const produce = watchProducersOf(kafka)
    const normalizer = createNormalizer({
      config,
      kafka,
      codec,
      metrics: createNormalizerMetrics(registry),
      log: createLogger({ service: 'normalizer', level: 'warn' }),
      ...(options.withoutDigests && { contentDigests: noContentDigests }),
    })
    const run = () =>
      measured(async () => {
        await normalizer.start()
        await waitUntilCommitted(options.admin, {
          groupId: options.groupId,
          topic: options.input,
          ends: options.ends,
          failure: () => {
            const live = normalizer.live()
            return live.ok ? undefined : JSON.stringify(live.details)
          },
        })
      })
    let times: Measured
    let profile: CpuProfileSummary | undefined
    try {
      if (options.profile) ({ result: times, profile } = await cpuProfiled(run, options.profile))
      else times = await run()
    } finally {
      await normalizer.stop()
    }
    // Counters' values carry no metricName; a histogram's are named <name>_sum, <name>_count, ….
    const total = async (metric: string, name = metric) => {
      const metricValues = await registry.getSingleMetric(metric)?.get()
      const values: { value: number; metricName?: string }[] = metricValues?.values ?? []
      return values.filter((v) => (v.metricName ?? metric) === name).reduce((sum, v) => sum + v.value, 0)
    }
    const flushSeconds = 'audit_normalizer_flush_seconds'
    return {
      ...times,
      config,
      consumed: await total('audit_normalizer_messages_consumed_total'),
      deadLettered: await total('audit_normalizer_events_dead_lettered_total'),
      flushes: {
        count: await total(flushSeconds, `${flushSeconds}_count`),
        totalSeconds: await total(flushSeconds, `${flushSeconds}_sum`),
      },
      produce,
      ...(profile && { profile }),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Content digests replaced by a constant: the normalizer without what they cost (every event is new). */
const noContentDigests: ContentDigests = {
  of: () => '',
  ofAll: (values) => Promise.resolve(values.map(() => '')),
  offThread: false,
  close: () => Promise.resolve(),
}
