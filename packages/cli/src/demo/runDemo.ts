import { existsSync, readFileSync } from 'node:fs'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { logLevel } from 'kafkajs'
import { deadLetterOpener, isSealed, listDeadLetters, type DeadLetter } from '@audit-pipeline/dead-letter'
import type { KeyStore } from '@audit-pipeline/field-encryption'
import { createKafka } from '@audit-pipeline/kafka'
import {
  defaultStateDir,
  readRunningPipeline,
  readStackState,
  type PipelineEndpoints,
} from '@audit-pipeline/stack-state'
import { createAuditProducer, defaultProducerTopic } from '@audit-pipeline/producer'
import { defaultDeadLetterTopic } from '@audit-pipeline/dead-letter'
import { openFieldKeys } from '../commands/fieldKeys.js'
import { printEvents, type QueryIo } from '../commands/query.js'
import { createQueryApiClient, type QueryApiClient } from '../commands/queryApiClient.js'
import { alertListing, tableLines, type ApiAlert, type ApiEvent } from '../commands/queryOutput.js'
import { demoChecks, type DemoObservation } from './demoChecks.js'
import { demoScenario, type Scenario } from './scenario.js'

/** How long the demo waits for the pipeline to have done everything the scenario expects. */
const settleTimeoutMs = 120_000

/**
 * `audit-pipeline demo`: on the running pipeline (`npm start`, or the one `npm run demo` starts for
 * it through deploy/local-stack), produces the scripted scenario, waits until its effects are in
 * (or a deadline passes), prints the ticket's timeline, the alerts and the dead letters, and checks
 * each expectation. Exit code 0 only if every check passed, 2 if no pipeline is running: starting
 * one is the local stack's job, not the CLI's.
 */
export async function demoCommand(
  env: NodeJS.ProcessEnv,
  io: QueryIo,
  /** Who started this process: `npm run demo`'s pipeline owner runs the CLI as its child. */
  parentPid: number = process.ppid,
): Promise<number> {
  const stateDir = defaultStateDir(env)
  const endpoints = readRunningPipeline(stateDir)
  if (!endpoints) {
    io.err(
      `audit-pipeline demo: no pipeline is running in ${stateDir}: ` +
        '`npm run demo` starts one for the demo, or run `npm start` in another terminal first',
    )
    return 2
  }
  const stack = readStackState(stateDir)
  if (!stack) throw new Error(`no stack state in ${stateDir}`)
  io.err(
    endpoints.ownerPid === parentPid
      ? `Using the pipeline \`npm run demo\` started (pid ${endpoints.ownerPid}).`
      : `Using the pipeline \`npm start\` runs (pid ${endpoints.ownerPid}).`,
  )
  const brokers = stack.kafka.brokers
  const scenario = demoScenario({ runId: runIdOf(new Date()), nowMs: Date.now() })
  await produceScenario(scenario, { brokers, registryUrl: stack.schemaRegistry.url }, io)
  const client = createQueryApiClient(endpoints.queryApi)
  const seen = await settle(scenario, { client, endpoints, brokers }, io)
  return report(scenario, seen, io)
}

async function produceScenario(
  scenario: Scenario,
  endpoints: { brokers: string[]; registryUrl: string },
  io: QueryIo,
): Promise<void> {
  const kafka = createKafka(
    { clientId: 'audit-pipeline-demo', brokers: endpoints.brokers },
    { logLevel: logLevel.NOTHING },
  )
  const audit = await createAuditProducer({
    kafka,
    registry: new SchemaRegistry({ host: endpoints.registryUrl }),
    endpoints,
    topic: defaultProducerTopic,
    defaults: { source: { service: 'audit-pipeline-demo' } },
  })
  try {
    // In event-time order: the burst last, so its window is not behind what was already seen.
    for (const event of scenario.events) await audit.generic(event)
    await audit.flush()
  } finally {
    await audit.close()
  }
  // What no SDK would send: raw bytes straight onto the producers' topic.
  const raw = kafka.producer()
  await raw.connect()
  try {
    await raw.send({
      topic: defaultProducerTopic,
      messages: scenario.malformed.map(({ key, value }) => ({ key, value })),
    })
  } finally {
    await raw.disconnect()
  }
  io.err(
    `Produced tenant ${scenario.tenant}: ticket 9548-B1's lifecycle (4 events), 13255A assigned then deleted (2), ` +
      `${scenario.burstDeletes} deletes by one user in 30 seconds, and ${scenario.malformed.length} malformed messages.`,
  )
}

/** Polls the API, the inbox and the dead letters until every check passes or the deadline. */
async function settle(
  scenario: Scenario,
  where: { client: QueryApiClient; endpoints: PipelineEndpoints; brokers: string[] },
  io: QueryIo,
): Promise<DemoObservation> {
  const deadline = Date.now() + settleTimeoutMs
  const kafka = createKafka(
    { clientId: 'audit-pipeline-demo', brokers: where.brokers },
    { logLevel: logLevel.NOTHING },
  )
  let seen = await observe(scenario, where.client, where.endpoints, kafka)
  let shown = ''
  while (!demoChecks(scenario, seen).every((check) => check.ok) && Date.now() < deadline) {
    const progress = `  waiting: ${seen.timeline.length}/${scenario.timeline.actions.length} timeline events, ${seen.storedAlerts.length} alerts stored, ${seen.deliveredAlerts.length} delivered, ${seen.deadLetters.length}/${scenario.malformed.length} dead letters`
    if (progress !== shown) io.err((shown = progress))
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    seen = await observe(scenario, where.client, where.endpoints, kafka)
  }
  return seen
}

async function observe(
  scenario: Scenario,
  client: QueryApiClient,
  endpoints: PipelineEndpoints,
  kafka: ReturnType<typeof createKafka>,
): Promise<DemoObservation> {
  const tenant = new URLSearchParams({ tenant: scenario.tenant })
  const { objectType, objectId } = scenario.timeline
  const [{ events: timeline }, { alerts: storedAlerts }, listing] = await Promise.all([
    client.get<{ events: ApiEvent[] }>(
      `/v1/objects/${encodeURIComponent(objectType)}/${encodeURIComponent(objectId)}/timeline`,
      tenant,
    ),
    client.get<{ alerts: ApiAlert[] }>('/v1/alerts', tenant),
    listDeadLetters({ kafka, topic: defaultDeadLetterTopic, limit: 10_000 }),
  ])
  const malformedKeys = new Set(scenario.malformed.map((m) => m.key))
  const ours = listing.deadLetters.filter((dead) => malformedKeys.has(dead.key?.toString() ?? ''))
  const fieldKeys = await pipelineFieldKeys(endpoints, ours)
  return {
    timeline,
    storedAlerts,
    deliveredAlerts: deliveredAlerts(endpoints.webhookLog, scenario.tenant),
    deadLetters: await Promise.all(
      ours.map(async (dead) => ({
        key: dead.key?.toString() ?? '',
        reason: await reasonOf(dead, fieldKeys),
      })),
    ),
  }
}

/** The pipeline's key store, when some dead letter is sealed and npm start says where it is. */
async function pipelineFieldKeys(
  endpoints: PipelineEndpoints,
  deadLetters: DeadLetter[],
): Promise<KeyStore | undefined> {
  if (endpoints.fieldKeys === undefined || !deadLetters.some(isSealed)) return undefined
  const setting = "npm start's pipeline.json"
  return openFieldKeys({
    directory: { path: endpoints.fieldKeys.directory, setting },
    kekFile: { path: endpoints.fieldKeys.kekFile, setting },
  })
}

/**
 * Why a message was dead-lettered: a sealed one's error opened with the pipeline's key store (npm
 * start seals the dead letters of every tenant's attributable messages), as `dlq list` shows it.
 */
async function reasonOf(dead: DeadLetter, keys: KeyStore | undefined): Promise<string> {
  if (!isSealed(dead) || keys === undefined) return `${dead.errorClass}: ${dead.message}`
  const opening = await deadLetterOpener(keys)(dead)
  return opening.state === 'opened' && opening.message !== undefined
    ? `${dead.errorClass}: ${opening.message} (sealed for its data subject; opened with the key store)`
    : `${dead.errorClass}: ${dead.message}`
}

type InboxLine = { path: string; verified: boolean; body: unknown }
type AlertBody = {
  type?: string
  data?: { rule?: string; group_key?: string; status?: string; tenant?: string }
}

function deliveredAlerts(webhookLog: string, tenant: string): DemoObservation['deliveredAlerts'] {
  if (!existsSync(webhookLog)) return []
  return readFileSync(webhookLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as InboxLine)
    .flatMap(({ path, verified, body }) => {
      const data = (body as AlertBody | null)?.data
      if (path !== '/ops' || data?.tenant !== tenant) return []
      return [{ rule: data.rule ?? '', groupKey: data.group_key ?? '', status: data.status ?? '', verified }]
    })
}

function report(scenario: Scenario, seen: DemoObservation, io: QueryIo): number {
  const { objectType, objectId } = scenario.timeline
  io.out(`\nTimeline of ${objectType} ${objectId} (tenant ${scenario.tenant}), from the query API:\n`)
  printEvents(seen.timeline, 'table', io)
  io.out(`\nAlerts raised (stored in ClickHouse; each also delivered, signed, to the ops webhook):\n`)
  for (const line of tableLines(alertListing(seen.storedAlerts), io.widthChars ?? 160)) io.out(line)
  io.out('\nDead letters (what could not be normalized, and why):\n')
  const deadLetters = [...seen.deadLetters].sort((a, b) => a.key.localeCompare(b.key))
  for (const dead of deadLetters) io.out(`  ${dead.key}  ${dead.reason}`)
  io.out('\nChecks:\n')
  const checks = demoChecks(scenario, seen)
  for (const check of checks) io.out(`  ${check.ok ? 'ok  ' : 'FAIL'}  ${check.what}: ${check.detail}`)
  const failed = checks.filter((check) => !check.ok).length
  io.out(
    failed === 0 ? `\nAll ${checks.length} checks passed.` : `\n${failed} of ${checks.length} checks failed.`,
  )
  return failed === 0 ? 0 : 1
}

/** A short, sortable id for the run's tenant: demo-20261123-213512. */
function runIdOf(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
}
