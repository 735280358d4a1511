import { relative } from 'node:path'
import {
  stackProcesses,
  type StackState,
  type SupervisedProcessStatus,
  type SupervisionState,
} from '@audit-pipeline/stack-state'

const shownPath = (cwd: string) => (path: string) => {
  const rel = relative(cwd, path)
  return rel.startsWith('..') ? path : rel
}

/** Rows padded into columns, two spaces apart, indented by two. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  return rows.map((row) =>
    `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd(),
  )
}

/** What a person needs to use the stack: where each part is, how to reach it, how to stop it. */
export function describeStack(state: StackState, cwd = process.cwd()): string {
  const shown = shownPath(cwd)
  const nodes = state.kafka.nodes ?? []
  const kafka =
    nodes.length === 0
      ? 'given by KAFKA_BROKERS'
      : nodes.length === 1
        ? `Apache Kafka ${nodes[0]!.version} (KRaft), pid ${nodes[0]!.pid}, log ${shown(nodes[0]!.logFile)}`
        : `Apache Kafka ${nodes[0]!.version} (KRaft, ${nodes.length} nodes, replication factor 3, min.insync.replicas 2), pids ${nodes.map((n) => n.pid).join(', ')}, logs ${nodes.map((n) => shown(n.logFile)).join(', ')}`
  const rows: [string, string, string][] = [
    ['Kafka', state.kafka.brokers.join(','), kafka],
    [
      'Schema registry',
      state.schemaRegistry.url,
      state.schemaRegistry.process
        ? `Apicurio Registry ${state.schemaRegistry.process.version}, pid ${state.schemaRegistry.process.pid}, log ${shown(state.schemaRegistry.process.logFile)}`
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
  const exports = [
    `KAFKA_BROKERS=${state.kafka.brokers.join(',')}`,
    `SCHEMA_REGISTRY_URL=${state.schemaRegistry.url}`,
    ...(state.clickhouse.kind === 'http' ? [`CLICKHOUSE_URL=${state.clickhouse.url}`] : []),
  ]
  const topics = state.kafka.topics.length > 0 ? [`  Topics: ${state.kafka.topics.join(', ')}`] : []
  return [...columns(rows), ...topics, '', `  Use it from another shell:  export ${exports.join(' ')}`].join(
    '\n',
  )
}

/** One row of `audit-stack status`'s process table. */
export type ProcessRow = {
  name: string
  /** A supervised process's state, or `running`/`exited` for one nothing supervises. */
  state: SupervisedProcessStatus['state'] | 'exited'
  pid?: number
  /** Undefined when nothing supervises it (a stack started by `npm run stack`). */
  restarts?: number
  lastErrorLine?: string
  lastExit?: SupervisedProcessStatus['lastExit']
  nextRestartAt?: string
}

/**
 * Every process of the stack in the state folder: those `npm start` supervises as its supervisor
 * last recorded them, then the stack's own processes nothing supervises (`npm run stack`). The
 * last error line is read from each log now (`errorLineOf`), so it is current even for a process
 * that never exited; the one recorded at its last exit stands in when the log has none.
 */
export function processRows(
  state: StackState | undefined,
  supervision: SupervisionState | undefined,
  probes: { isRunning: (pid: number) => boolean; errorLineOf: (logFile: string) => string | undefined },
): ProcessRow[] {
  const supervised: ProcessRow[] = (supervision?.processes ?? []).map((p) => {
    const lastErrorLine = probes.errorLineOf(p.logFile) ?? p.lastErrorLine
    return {
      name: p.name,
      state: p.state,
      ...(p.pid !== undefined && { pid: p.pid }),
      restarts: p.restarts,
      ...(lastErrorLine !== undefined && { lastErrorLine }),
      ...(p.lastExit && { lastExit: p.lastExit }),
      ...(p.nextRestartAt && { nextRestartAt: p.nextRestartAt }),
    }
  })
  const names = new Set(supervised.map((row) => row.name))
  const unsupervised: ProcessRow[] = (state ? stackProcesses(state) : [])
    .filter(({ name }) => !names.has(name))
    .map(({ name, process }) => {
      const lastErrorLine = probes.errorLineOf(process.logFile)
      return {
        name,
        state: probes.isRunning(process.pid) ? 'running' : 'exited',
        pid: process.pid,
        ...(lastErrorLine !== undefined && { lastErrorLine }),
      }
    })
  return [...supervised, ...unsupervised]
}

/** The process table: state, PID, restarts and the last error line of each. */
export function describeProcesses(rows: readonly ProcessRow[]): string {
  if (rows.length === 0) return '  (no processes: every part is given by the environment)'
  const time = (iso: string) => iso.slice(11, 19)
  const table = [
    ['process', 'state', 'pid', 'restarts', 'last error'],
    ...rows.map((row) => {
      const state =
        row.state === 'restarting' && row.nextRestartAt
          ? `restarting at ${time(row.nextRestartAt)}`
          : row.state
      const exit = row.lastExit
        ? ` (last exit ${time(row.lastExit.at)}: ${row.lastExit.signal ?? `code ${row.lastExit.code}`})`
        : ''
      return [
        row.name,
        state,
        row.pid === undefined || row.state !== 'running' ? '-' : String(row.pid),
        row.restarts === undefined ? 'unsupervised' : String(row.restarts),
        `${row.lastErrorLine ?? '-'}${exit}`,
      ]
    }),
  ]
  return columns(table).join('\n')
}
