import { describe, expect, it } from 'vitest'
import { pipelineTopics } from '@audit-pipeline/config'
import { e2eEnvironment, e2eNames, e2eRoutes, e2eServiceSettings, e2eTopicConfigs } from './e2eSettings.js'

const names = e2eNames('bench_e2e_1')

// deploy/normalizer/routes.yaml as it is.
const deployRoutes = `# The normalizer's routes for \`npm start\` (the format: services/normalizer/routes.example.yaml).
# Edit and send SIGHUP to the normalizer (or restart \`npm start\`) to apply.
#
#   audit.normalized  read by the ClickHouse sink: what analysts query
#   audit.forward     read by the forwarder: what leaves for webhooks and the SIEM

routes:
  - name: drop-debug
    match:
      category: debug
    drop:
      reason: debug events are not kept

  # Security events and anything refused are stored and forwarded to the SIEM.
  - name: security
    match:
      category: security
    to: [audit.normalized, audit.forward]

  - name: refused-actions
    match:
      outcome.status: [denied, failure]
    to: [audit.normalized, audit.forward]

default:
  to: [audit.normalized]
`

describe('e2eNames and e2eTopicConfigs', () => {
  it('makes the six pipeline topics under the run’s prefix, with the stack’s partitions and settings', () => {
    const configs = e2eTopicConfigs(names)
    expect(configs.map((c) => c.topic)).toEqual([
      'bench_e2e_1.events',
      'bench_e2e_1.normalized',
      'bench_e2e_1.forward',
      'bench_e2e_1.dlq',
      'bench_e2e_1.alerts',
      'bench_e2e_1.access',
    ])
    expect(configs[0]).toEqual({
      topic: 'bench_e2e_1.events',
      numPartitions: pipelineTopics.events.partitions,
      configEntries: [{ name: 'segment.ms', value: pipelineTopics.events.config['segment.ms'] }],
    })
    expect(configs.every((c) => c.numPartitions === 6)).toBe(true)
  })
})

describe('e2eRoutes', () => {
  it('renames npm start’s output topics to the run’s, keeping every route', () => {
    const routes = e2eRoutes(deployRoutes, names)
    expect(routes).toContain('to: [bench_e2e_1.normalized, bench_e2e_1.forward]')
    expect(routes).toContain('default:\n  to: [bench_e2e_1.normalized]')
    expect(routes).toContain('outcome.status: [denied, failure]')
    expect(routes.replace(/#.*$/gm, '')).not.toMatch(/audit\./)
  })

  it('refuses a route to a topic it does not know how to rename', () => {
    expect(() => e2eRoutes(`${deployRoutes}  - to: [audit.archive]\n`, names)).toThrow(/audit\.archive/)
  })
})

describe('e2eServiceSettings', () => {
  it('points every service at the run’s topics, never at npm start’s', () => {
    const settings = e2eServiceSettings(names, '/tmp/routes.yaml')
    const pipelineNames = new Set<string>([
      ...Object.values(pipelineTopics).map((t) => t.name),
      'audit.alerting.state',
      'audit.checkpoints',
    ])
    for (const [name, value] of Object.entries(settings)) {
      for (const part of value.split(',')) expect(pipelineNames.has(part), `${name}=${value}`).toBe(false)
    }
    expect(settings['SINK_INPUT_TOPICS']).toBe('bench_e2e_1.normalized,bench_e2e_1.alerts,bench_e2e_1.access')
    expect(settings['CLICKHOUSE_DATABASE']).toBe('bench_e2e_1')
  })
})

describe('e2eEnvironment', () => {
  it('drops the connections and files the section owns, passes other service settings on, and names them', () => {
    const { env, passedOn } = e2eEnvironment(
      {
        PATH: '/usr/bin',
        KAFKA_BROKERS: 'elsewhere:9092',
        CLICKHOUSE_URL: 'http://elsewhere:8123',
        AUDIT_STACK_DIR: '.stack',
        QUERY_API_PORT: '8480',
        ALERTING_RULES_FILE: 'mine.yaml',
        SINK_BATCH_MAX_ROWS: '5000',
        NORMALIZER_GROUP_ID: 'theirs',
        UNSET: undefined,
      },
      { NORMALIZER_GROUP_ID: 'ours', KAFKA_BROKERS: '127.0.0.1:1' },
    )
    expect(env).toEqual({
      PATH: '/usr/bin',
      SINK_BATCH_MAX_ROWS: '5000',
      NORMALIZER_GROUP_ID: 'ours',
      KAFKA_BROKERS: '127.0.0.1:1',
    })
    expect(passedOn).toEqual(['SINK_BATCH_MAX_ROWS=5000'])
  })
})
