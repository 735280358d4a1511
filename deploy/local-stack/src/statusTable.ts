import { relative } from 'node:path'
import type { StackState } from './stackState.js'

/** What a person needs to use the stack: where each part is, how to reach it, how to stop it. */
export function describeStack(state: StackState, cwd = process.cwd()): string {
  const shown = (path: string) => {
    const rel = relative(cwd, path)
    return rel.startsWith('..') ? path : rel
  }
  const rows: [string, string, string][] = [
    [
      'Kafka',
      state.kafka.brokers.join(','),
      state.kafka.process
        ? `Apache Kafka ${state.kafka.process.version} (KRaft), pid ${state.kafka.process.pid}, log ${shown(state.kafka.process.logFile)}`
        : 'given by KAFKA_BROKERS',
    ],
    [
      'Schema registry',
      state.schemaRegistry.url,
      state.schemaRegistry.process
        ? `Apicurio Registry ${state.schemaRegistry.process.version} (in-memory), pid ${state.schemaRegistry.process.pid}, log ${shown(state.schemaRegistry.process.logFile)}`
        : 'given by SCHEMA_REGISTRY_URL',
    ],
    [
      'ClickHouse',
      state.clickhouse.kind === 'http' ? state.clickhouse.url : shown(state.clickhouse.dataPath),
      state.clickhouse.kind === 'http'
        ? 'server given by CLICKHOUSE_URL'
        : 'embedded chDB (one process at a time opens it)',
    ],
  ]
  const width = (i: 0 | 1) => Math.max(...rows.map((row) => row[i].length))
  const lines = rows.map(
    ([name, where, what]) => `  ${name.padEnd(width(0))}  ${where.padEnd(width(1))}  ${what}`,
  )
  const exports = [
    `KAFKA_BROKERS=${state.kafka.brokers.join(',')}`,
    `SCHEMA_REGISTRY_URL=${state.schemaRegistry.url}`,
    ...(state.clickhouse.kind === 'http' ? [`CLICKHOUSE_URL=${state.clickhouse.url}`] : []),
  ]
  const topics = state.kafka.topics.length > 0 ? [`  Topics: ${state.kafka.topics.join(', ')}`] : []
  return [...lines, ...topics, '', `  Use it from another shell:  export ${exports.join(' ')}`].join('\n')
}
