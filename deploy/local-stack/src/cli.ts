#!/usr/bin/env node
import { checkStackClickHouse } from './clickhouseCheck.js'
import { defaultStateDir } from './paths.js'
import { startPipeline, type RunningPipeline } from './pipeline.js'
import { startStack, stopStack } from './stack.js'
import { isStackRunning, readStackState } from './stackState.js'
import { describeStack } from './statusTable.js'

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
  await checkStackClickHouse(stack.state)
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
  const started: { pipeline?: RunningPipeline } = {}
  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    print(`\n${signal}: stopping…`)
    await started.pipeline?.stop()
    print(
      started.pipeline?.stack.reused
        ? 'Left the shared stack running (started by `npm run stack`).'
        : 'Everything stopped.',
    )
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  started.pipeline = await startPipeline({ env: process.env, ownerPid: process.pid, log: print })
  print(started.pipeline.describe())
  // Keep the process alive until a signal arrives.
  setInterval(() => undefined, 1 << 30)
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
