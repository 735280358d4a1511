import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack } from '@audit-pipeline/local-stack'
import { alertingSection } from './alertingSection.js'
import { e2eSection } from './e2eSection.js'
import { forwarderSection } from './forwarderSection.js'
import { kafkaClientsSection } from './kafkaClients.js'
import { normalizerSection } from './normalizerThroughput.js'
import { producerSection } from './producerSection.js'
import { sinkSection } from './sinkThroughput.js'
import { verifySection } from './verifySection.js'

/**
 * `npm run bench`: throughput on a local stack of its own (broker and registry on the same
 * machine), each figure beside a baseline measured in the same run.
 *
 *   BENCH_SECTIONS               which sections, comma-separated: producer, normalizer, sink, alerting, forwarder, verify, e2e, kafka-clients (default all)
 *   BENCH_VERIFY_EVENTS          events in the trail verify checks (default 400000)
 *   BENCH_EVENTS                 events per producer run (default 200000)
 *   BENCH_NORMALIZER_EVENTS      events in the normalizer's input (default 200000)
 *   BENCH_CPU_PROFILE_FILE       where to write the normalizer's CPU profile, when one is taken (.cpuprofile)
 *   NORMALIZER_*                 passed to the normalizer under test (not its topics, group or routes)
 *   BENCH_SINK_EVENTS            events in the sink's input, for throughput (default 200000)
 *   BENCH_SINK_BACKLOG           backlog the sink process reads while its memory is sampled (default 1000000)
 *   BENCH_SINK_CPU_PROFILE_FILE  where to write the sink's CPU profile, when one is taken (.cpuprofile)
 *   SINK_*                       passed to the sink under test (not its topics or group)
 *   BENCH_E2E_EVENTS             events through the whole pipeline in the end-to-end section (default 200000)
 *   BENCH_E2E_PRODUCERS          producer processes feeding it (default 2)
 *   BENCH_E2E_CEILING_RECORDS    records per run of Kafka's own perf tools, its ceiling (default 500000)
 *   BENCH_KAFKA_CLIENTS_EVENTS   records per run of the kafka-clients section (default 200000); its contenders are
 *                                installed on first use into ~/.cache/audit-pipeline/kafka-clients
 *
 * The end-to-end section runs the pipeline as npm start does, with the environment's other service
 * settings passed on as npm start would; it sets the exit code to 1 when its correctness gate fails.
 */
const sectionNames = [
  'producer',
  'normalizer',
  'sink',
  'alerting',
  'forwarder',
  'verify',
  'e2e',
  'kafka-clients',
] as const
const sections = benchSections(process.env['BENCH_SECTIONS'])
const events = eventCount('BENCH_EVENTS')
const normalizerEvents = eventCount('BENCH_NORMALIZER_EVENTS')
const sinkEvents = eventCount('BENCH_SINK_EVENTS')
const sinkBacklog = eventCount('BENCH_SINK_BACKLOG', 1_000_000)

const stateDir = mkdtempSync(join(tmpdir(), 'audit-bench-stack-'))
const stack = await startStack({ env: process.env, stateDir, ownerPid: process.pid })
try {
  const brokers = stack.state.kafka.brokers
  const registryUrl = stack.state.schemaRegistry.url
  if (sections.has('producer')) {
    await producerSection({ brokers, registryUrl, events, state: stack.state, env: process.env })
  }
  if (sections.has('normalizer')) {
    await normalizerSection({ brokers, registryUrl, events: normalizerEvents, env: process.env })
  }
  if (sections.has('sink')) {
    const cpuProfileFile = process.env['BENCH_SINK_CPU_PROFILE_FILE']
    await sinkSection({
      brokers,
      registryUrl,
      events: sinkEvents,
      backlog: sinkBacklog,
      env: process.env,
      ...(cpuProfileFile && { cpuProfileFile }),
    })
  }
  if (sections.has('alerting')) await alertingSection({ brokers, registryUrl, env: process.env })
  if (sections.has('forwarder')) await forwarderSection({ brokers, registryUrl, env: process.env })
  if (sections.has('verify')) await verifySection({ events: eventCount('BENCH_VERIFY_EVENTS', 400_000) })
  if (sections.has('e2e') && !(await e2eSection({ state: stack.state, env: process.env })).passed) {
    process.exitCode = 1
  }
  if (sections.has('kafka-clients')) {
    const nodes = stack.state.kafka.nodes ?? []
    const outcome = await kafkaClientsSection({
      brokers,
      events: eventCount('BENCH_KAFKA_CLIENTS_EVENTS'),
      env: process.env,
      // One broker: the stall check stops it for 8 s (SIGSTOP/SIGCONT); a cluster gets "not verified".
      ...(nodes.length === 1 && nodes[0] && { brokerPid: nodes[0].pid }),
    })
    if (!outcome.passed) process.exitCode = 1
  }
} finally {
  await stack.stop()
  rmSync(stateDir, { recursive: true, force: true })
}

function benchSections(value: string | undefined): Set<(typeof sectionNames)[number]> {
  if (value === undefined || value.trim() === '') return new Set(sectionNames)
  const names = value.split(',').map((name) => name.trim())
  const unknown = names.filter((name) => !(sectionNames as readonly string[]).includes(name))
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_SECTIONS: unknown section ${unknown.map((n) => `'${n}'`).join(', ')}; expected one of: ${sectionNames.join(', ')}`,
    )
  }
  return new Set(names as (typeof sectionNames)[number][])
}

function eventCount(variable: string, fallback = 200_000): number {
  const value = process.env[variable] ?? String(fallback)
  const count = Number(value)
  if (!Number.isSafeInteger(count) || count <= 0) {
    throw new Error(`${variable}: expected a whole number above 0, e.g. ${fallback}; got '${value}'`)
  }
  return count
}
