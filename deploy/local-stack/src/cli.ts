#!/usr/bin/env node
import { mkdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { localWebhookSecretVariable, writeLocalReceiverFiles } from './localReceivers.js'
import { defaultStateDir } from './paths.js'
import { startStack, stopStack, type StackHandle } from './stack.js'
import { isStackRunning, readStackState } from './stackState.js'
import { describeStack } from './statusTable.js'
import { checkEmbeddedClickHouse } from './clickhouseCheck.js'
import {
  describeServices,
  startServices,
  stopServices,
  type LocalSetup,
  type RunningService,
} from './pipelineServices.js'
import { startWebhookInbox, type WebhookInbox } from './webhookInbox.js'

const usage = `audit-stack: the audit-pipeline local stack (Kafka, schema registry, ClickHouse) on 127.0.0.1

  audit-stack up       start the stack in the background (or reuse the running one) and print where it is
  audit-stack status   print where the running stack is
  audit-stack down     stop the processes the stack started, by PID
  audit-stack run      the main job: start the stack and every service, stop all on Ctrl-C or SIGTERM

Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, CLICKHOUSE_URL use existing infrastructure instead
of starting it; AUDIT_STACK_DIR (default .stack/) holds PIDs, data and logs; AUDIT_CACHE_DIR
(default ~/.cache/audit-pipeline) holds the Maven downloads.`

const print = (line: string): void => void process.stdout.write(`${line}\n`)

async function up(): Promise<void> {
  const stack = await startStack({ env: process.env, log: print })
  print(
    stack.reused
      ? `A local stack is already running (since ${stack.state.startedAt}); reusing it:`
      : `Local stack ready in ${stack.startSeconds.toFixed(1)} s:`,
  )
  await checkClickHouse(stack)
  print(describeStack(stack.state))
  print('\n  Stop it with: npm run stack:down')
}

async function down(): Promise<void> {
  const stateDir = defaultStateDir(process.env)
  const stopped = await stopStack(stateDir)
  if (!stopped) return print(`No local stack is running in ${stateDir}.`)
  for (const { name, pid, outcome } of stopped) print(`  ${name} (pid ${pid}): ${outcome}`)
  print('Local stack stopped.')
}

function status(): void {
  const stateDir = defaultStateDir(process.env)
  const state = readStackState(stateDir)
  if (!state) return print(`No local stack is running in ${stateDir}. Start one with: npm run stack`)
  print(
    isStackRunning(state)
      ? `Local stack running since ${state.startedAt}:`
      : 'Local stack is partly down (run `npm run stack:down`, then start it again):',
  )
  print(describeStack(state))
  if (!isStackRunning(state)) process.exitCode = 1
}

/** The main job: the stack and every pipeline service, until Ctrl-C or SIGTERM stops them all. */
async function runAll(): Promise<void> {
  const stack = await startStack({ env: process.env, log: print, ownerPid: process.pid })
  let services: RunningService[] = []
  let inbox: WebhookInbox | undefined
  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    print(`\n${signal}: stopping…`)
    // Services first: they finish their batch and commit while the broker is still up.
    await stopServices(services)
    await inbox?.close()
    await stack.stop()
    print(
      stack.reused ? 'Left the shared stack running (started by `npm run stack`).' : 'Everything stopped.',
    )
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  try {
    await checkClickHouse(stack)
    const logDir = join(stack.state.stateDir, 'logs')
    mkdirSync(logDir, { recursive: true })
    inbox = await startWebhookInbox({ logFile: join(logDir, 'webhooks.ndjson') })
    const local: LocalSetup = {
      receivers: writeLocalReceiverFiles(stack.state.stateDir, inbox.url),
      env: { [localWebhookSecretVariable]: inbox.secret },
    }
    services = await startServices(stack.state, {
      ownerPid: process.pid,
      env: process.env,
      local,
      log: print,
    })
  } catch (error) {
    await inbox?.close()
    await stack.stop()
    throw error
  }
  print(
    `audit-pipeline is up${stack.reused ? ' (on the already running stack)' : ` in ${stack.startSeconds.toFixed(1)} s`}:\n`,
  )
  print(describeStack(stack.state))
  print('\n  Services (metrics at /metrics, health at /healthz and /readyz):')
  print(describeServices(services))
  print(
    `\n  Webhook inbox:    ${inbox.url} (forwarded events at /siem, alerts at /ops; signed, each delivery in ${relative(process.cwd(), join(stack.state.stateDir, 'logs', 'webhooks.ndjson'))})`,
  )
  print(`  Alert rules:      deploy/alerting/rules.yaml (SIGHUP the alerting process to reload)`)
  print('  Send events:      npx audit-pipeline produce --file schemas/examples/ticket-9548-B1.ndjson')
  print('  Dead letters:     npx audit-pipeline dlq list')
  print('  Press Ctrl-C to stop everything.')
  // Keep the process alive until a signal arrives.
  setInterval(() => undefined, 1 << 30)
}

async function checkClickHouse(stack: StackHandle): Promise<void> {
  const { clickhouse } = stack.state
  if (clickhouse.kind === 'embedded') await checkEmbeddedClickHouse(clickhouse.dataPath, clickhouse.database)
}

const commands: Record<string, () => Promise<void> | void> = { up, down, status, run: runAll }
const command = commands[process.argv[2] ?? '']
if (!command) {
  print(usage)
  process.exitCode = process.argv[2] && !['help', '--help', '-h'].includes(process.argv[2]) ? 2 : 0
} else {
  try {
    await command()
  } catch (error) {
    // Our errors say what to do; a stack trace would bury that. AUDIT_DEBUG=1 shows it.
    const detail =
      error instanceof Error && !process.env['AUDIT_DEBUG']
        ? error.message
        : String(error instanceof Error ? error.stack : error)
    process.stderr.write(`audit-stack ${process.argv[2]}: ${detail}\n`)
    process.exit(1)
  }
}
