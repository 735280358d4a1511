// The sink as a library: configuration, the service and its metrics, for tests, the bench and the
// local stack. The process is main.ts. The tables it writes are @audit-pipeline/clickhouse-schema.
export { loadSinkConfig, sinkOpsPort, type SinkConfig } from './config.js'
export { createSink, type Sink, type SinkOptions } from './sink.js'
export { createSinkMetrics, type SinkMetrics } from './metrics.js'
export { openSinkStorage } from './openSinkStorage.js'
// How event rows are written (the bench times these steps on their own).
export { eventRowColumns, eventRowFormat, eventRowLine } from './delivery/eventRowLine.js'
export { eventRowInserter } from './delivery/insertRows.js'
