import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { createTopicsWithLeaders, startPipeline, type RunningPipeline } from '@audit-pipeline/local-stack'
import type { NamedProcess } from './cpuAccounting.js'
import { metricTotal } from './sinkProcess.js'
import {
  e2eEnvironment,
  e2eNames,
  e2eRoutes,
  e2eServiceSettings,
  e2eTopicConfigs,
  type E2eNames,
} from './e2eSettings.js'

/** npm start's routes (this file is bench/{src,dist}/e2ePipeline.*). */
const deployRoutesFile = fileURLToPath(new URL('../../deploy/normalizer/routes.yaml', import.meta.url))

export type E2ePipeline = {
  pipeline: RunningPipeline
  names: E2eNames
  /** Service settings of the bench's environment passed on to the services (VAR=value). */
  passedOn: string[]
  /** The inbox's log: one line per delivery (inboxDeliveries.ts). */
  webhookLog: string
  clickhouse: { dataPath: string; database: string }
  /** What npm start supervises (the webhook inbox and each service), with each one's PID now. */
  processes(): NamedProcess[]
  /** The supervisor's restarts so far, one line per process restarted. */
  restarts(): string[]
  /** Events of `tenant` in the analysts' view, as the query API answers an auditor's SQL. */
  queryableEvents(tenant: string): Promise<number>
  /**
   * Rows the sink has written to audit_events so far, any tenant (its /metrics): cheap to ask, so
   * the section asks the query API only once this says the rows may all be there.
   */
  sinkRowsInserted(): Promise<number>
}

/**
 * The pipeline as `npm start` runs it (deploy/local-stack's startPipeline: the webhook inbox, every
 * service with deploy/'s defaults, each supervised), on the bench's broker and registry, with the
 * run's own topics, groups, database and state folder `dir/stack`. The topics are made first, as
 * the stack makes npm start's.
 */
export async function startE2ePipeline(options: {
  brokers: string[]
  registryUrl: string
  prefix: string
  dir: string
  env: NodeJS.ProcessEnv
  log: (line: string) => void
}): Promise<E2ePipeline> {
  const names = e2eNames(options.prefix)
  const admin = new Kafka({
    clientId: 'bench-e2e',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  }).admin()
  await admin.connect()
  try {
    await createTopicsWithLeaders(admin, e2eTopicConfigs(names))
  } finally {
    await admin.disconnect()
  }
  mkdirSync(options.dir, { recursive: true })
  const routesFile = join(options.dir, 'routes.yaml')
  writeFileSync(routesFile, e2eRoutes(readFileSync(deployRoutesFile, 'utf8'), names))
  const { env, passedOn } = e2eEnvironment(options.env, {
    ...e2eServiceSettings(names, routesFile),
    KAFKA_BROKERS: options.brokers.join(','),
    SCHEMA_REGISTRY_URL: options.registryUrl,
    AUDIT_STACK_DIR: join(options.dir, 'stack'),
  })
  const pipeline = await startPipeline({ env, ownerPid: process.pid, log: options.log })
  const { clickhouse } = pipeline.stack.state
  if (clickhouse.kind !== 'embedded') {
    await pipeline.stop()
    throw new Error('the end-to-end section runs embedded ClickHouse, and the stack has a server')
  }
  const { queryApi, webhookLog } = pipeline.endpoints
  const sink = pipeline.services.find((service) => service.name.startsWith('clickhouse-sink'))
  if (!sink) {
    await pipeline.stop()
    throw new Error(`npm start ran no ClickHouse sink: ${pipeline.services.map((s) => s.name).join(', ')}`)
  }
  return {
    pipeline,
    names,
    passedOn,
    webhookLog,
    clickhouse: { dataPath: clickhouse.dataPath, database: clickhouse.database },
    processes: () =>
      pipeline.supervisor
        .statuses()
        .flatMap((status) => (status.pid === undefined ? [] : [{ name: status.name, pid: status.pid }])),
    restarts: () =>
      pipeline.supervisor
        .statuses()
        .filter((status) => status.restarts > 0 || status.state !== 'running')
        .map(
          (status) =>
            `${status.name}: ${status.state}, ${status.restarts} restarts` +
            (status.lastErrorLine ? `, last error: ${status.lastErrorLine}` : ''),
        ),
    queryableEvents: async (tenant) => {
      const response = await fetch(`${queryApi.url}/v1/sql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${queryApi.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          sql: "SELECT count() AS n FROM audit_events_deduplicated WHERE tenant = {t:String} AND object_type = 'ticket'",
          params: { t: tenant },
        }),
        signal: AbortSignal.timeout(30_000),
      })
      if (!response.ok) throw new Error(`the query API answered ${response.status}: ${await response.text()}`)
      const answer = (await response.json()) as { rows: { n: string | number }[] }
      return Number(answer.rows[0]?.n ?? 0)
    },
    sinkRowsInserted: async () => {
      const response = await fetch(`${sink.opsUrl}/metrics`, { signal: AbortSignal.timeout(30_000) })
      if (!response.ok) throw new Error(`the sink's /metrics answered ${response.status}`)
      const eventRows = (await response.text())
        .split('\n')
        .filter((line) => line.includes('table="audit_events"'))
        .join('\n')
      return metricTotal(eventRows, 'audit_sink_rows_inserted_total')
    },
  }
}
