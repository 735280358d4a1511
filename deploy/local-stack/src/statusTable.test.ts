import { describe, expect, it } from 'vitest'
import type { StackState, SupervisionState } from '@audit-pipeline/stack-state'
import { describeProcesses, describeStack, processRows } from './statusTable.js'

const state: StackState = {
  stateDir: '/repo/.stack',
  startedAt: '2025-01-01T00:00:00.000Z',
  kafka: {
    brokers: ['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003'],
    topics: ['audit.events'],
    nodes: [1, 2, 3].map((id) => ({
      id,
      listener: `127.0.0.1:900${id}`,
      pid: 100 + id,
      logFile: `/repo/.stack/kafka/node-${id}/broker.out`,
      version: '4.4.0',
    })),
  },
  schemaRegistry: {
    url: 'http://127.0.0.1:8081/apis/ccompat/v7',
    process: { pid: 200, logFile: '/repo/.stack/schema-registry/registry.out', version: '3.3.3' },
  },
  clickhouse: { kind: 'embedded', dataPath: '/repo/.stack/clickhouse', database: 'audit' },
}

const supervision: SupervisionState = {
  ownerPid: 1,
  updatedAt: '2025-01-01T00:01:00.000Z',
  processes: [
    { name: 'kafka-1', state: 'running', pid: 101, restarts: 0, logFile: '/logs/kafka-1' },
    {
      name: 'alerting',
      state: 'restarting',
      restarts: 2,
      logFile: '/logs/alerting',
      lastExit: { code: 1, signal: null, at: '2025-01-01T00:00:58.000Z' },
      lastErrorLine: 'recorded at exit',
      nextRestartAt: '2025-01-01T00:01:02.000Z',
    },
    {
      name: 'forwarder',
      state: 'running',
      pid: 301,
      restarts: 1,
      logFile: '/logs/forwarder',
      lastExit: { code: null, signal: 'SIGKILL', at: '2025-01-01T00:00:30.000Z' },
    },
  ],
}

describe('describeStack', () => {
  it('lists a three-node cluster with its replication and every node', () => {
    const text = describeStack(state, '/repo')
    expect(text).toContain(
      'Apache Kafka 4.4.0 (KRaft, 3 nodes, replication factor 3, min.insync.replicas 2), pids 101, 102, 103, logs .stack/kafka/node-1/broker.out, .stack/kafka/node-2/broker.out, .stack/kafka/node-3/broker.out',
    )
    expect(text).toContain('export KAFKA_BROKERS=127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003 ')
  })

  it('lists one node as before', () => {
    const single = { ...state, kafka: { ...state.kafka, nodes: state.kafka.nodes!.slice(0, 1) } }
    expect(describeStack(single, '/repo')).toContain(
      'Apache Kafka 4.4.0 (KRaft), pid 101, log .stack/kafka/node-1/broker.out',
    )
  })
})

describe('processRows', () => {
  const probes = {
    isRunning: (pid: number) => pid !== 103,
    errorLineOf: (file: string) => (file === '/logs/forwarder' ? 'ERROR now' : undefined),
  }

  it('lists supervised processes as recorded, then the stack processes nothing supervises', () => {
    const rows = processRows(state, supervision, probes)
    expect(rows.map((row) => [row.name, row.state, row.pid, row.restarts, row.lastErrorLine])).toEqual([
      ['kafka-1', 'running', 101, 0, undefined],
      ['alerting', 'restarting', undefined, 2, 'recorded at exit'],
      ['forwarder', 'running', 301, 1, 'ERROR now'],
      ['schema-registry', 'running', 200, undefined, undefined],
      ['kafka-2', 'running', 102, undefined, undefined],
      ['kafka-3', 'exited', 103, undefined, undefined],
    ])
  })

  it('is the stack alone when npm start is not running', () => {
    expect(processRows(state, undefined, probes).map((row) => row.name)).toEqual([
      'schema-registry',
      'kafka-1',
      'kafka-2',
      'kafka-3',
    ])
  })
})

describe('describeProcesses', () => {
  it('shows state, PID, restarts and the last error line, with the last exit', () => {
    const rows = processRows(state, supervision, { isRunning: () => true, errorLineOf: () => undefined })
    expect(describeProcesses(rows.slice(0, 4)).split('\n')).toEqual([
      '  process          state                   pid  restarts      last error',
      '  kafka-1          running                 101  0             -',
      '  alerting         restarting at 00:01:02  -    2             recorded at exit (last exit 00:00:58: code 1)',
      '  forwarder        running                 301  1             - (last exit 00:00:30: SIGKILL)',
      '  schema-registry  running                 200  unsupervised  -',
    ])
  })
})
