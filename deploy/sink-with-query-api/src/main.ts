#!/usr/bin/env node
// The ClickHouse sink and the query API in one process, for embedded ClickHouse: its data folder
// can be opened by one process only, so the two share one storage. With a ClickHouse server
// (CLICKHOUSE_URL) run them as their own processes instead (audit-clickhouse-sink, audit-query-api).
// Both read their own settings (SINK_*, QUERY_API_*) and share the connections and the ops server.
// It lives in deploy/ because it composes two services, and no service imports another.
import {
  createSink,
  createSinkMetrics,
  loadSinkConfig,
  openSinkStorage,
} from '@audit-pipeline/clickhouse-sink'
import { createKafka, kafkaLogsTo, waitForCodec } from '@audit-pipeline/kafka'
import {
  configOrExit,
  createLogger,
  createMetricsRegistry,
  exitAfterStartFailure,
  exitCodes,
  serveService,
} from '@audit-pipeline/service-runtime'
import {
  createQueryApiMetrics,
  loadQueryApiConfig,
  startQueryApi,
  type RunningQueryApi,
} from '@audit-pipeline/query-api'

const program = 'audit-sink-with-query-api'
const sinkConfig = configOrExit(program, () => loadSinkConfig(process.env))
const apiConfig = configOrExit(program, () => loadQueryApiConfig(process.env))

const log = createLogger({ service: 'clickhouse-sink', level: sinkConfig.ops.logLevel })
const registry = createMetricsRegistry({ service: 'clickhouse-sink' })
const kafka = createKafka(sinkConfig.kafka, {
  logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })),
})

try {
  const storage = await openSinkStorage(sinkConfig.clickhouse)
  const codec = await waitForCodec(
    sinkConfig.schemaRegistry,
    { autoRegister: false },
    { log, outage: sinkConfig.consumer.outage },
  )
  const sink = createSink({
    config: sinkConfig,
    kafka,
    codec,
    storage,
    metrics: createSinkMetrics(registry),
    log,
    // Only when KAFKA_OUTAGE_GIVE_UP_MS is set and failures outlast it; a supervisor restarts us.
    onGiveUp: () => setImmediate(() => process.exit(exitCodes.failed)),
  })
  let queryApi: RunningQueryApi | undefined
  await serveService({
    service: {
      // The sink migrates the schema first, so the API's first query finds its tables.
      start: async () => {
        await sink.start()
        queryApi = await startQueryApi({
          config: apiConfig,
          storage,
          kafka,
          log: log.child({ component: 'query-api' }),
          metrics: createQueryApiMetrics(registry),
        })
        log.info(
          { api: queryApi.api.url, openapi: `${queryApi.api.url}/openapi.json` },
          'query API listening',
        )
      },
      // No new queries, then the sink's last batch, then the shared storage (`close`).
      stop: async () => {
        await queryApi?.close()
        await sink.stop()
      },
      // The query API's keys file (also watched): the sink has nothing to reload.
      reload: () => queryApi?.reload(),
      live: () => sink.live(),
      ready: () => {
        const sinkReady = sink.ready()
        return queryApi === undefined
          ? { ok: false, details: { ...sinkReady.details, queryApi: 'starting' } }
          : { ...sinkReady, details: { ...sinkReady.details, queryApi: queryApi.api.url } }
      },
    },
    ops: sinkConfig.ops,
    registry,
    log,
    close: () => storage.close(),
    readyDetails: { storage: storage.describe() },
  })
} catch (error) {
  exitAfterStartFailure(program, log, error)
}
