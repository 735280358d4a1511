#!/usr/bin/env node
import { parseArgs } from 'node:util'
import {
  defaultStateDir,
  isOurProcess,
  isStackRunning,
  readStackState,
  readSupervisionState,
} from '@audit-pipeline/stack-state'
import { checkStackClickHouse } from './clickhouseCheck.js'
import { demoCommand } from './demo.js'
import { lastErrorLine } from './logErrorLine.js'
import { startPipeline, type RunningPipeline } from './pipeline.js'
import { logTail } from './processes.js'
import { startStack, stopStack } from './stack.js'
import { requestedClusterSize } from './stackSettings.js'
import { describeProcesses, describeStack, processRows } from './statusTable.js'

const usage = `audit-stack: the audit-pipeline local stack (Kafka, schema registry, ClickHouse) on 127.0.0.1

  audit-stack up [--brokers 1|3]   start the stack in the background (or reuse the running one) and print where it is
  audit-stack status               print where the running stack is, and each process's state, PID, restarts and last error
  audit-stack down                 stop the processes the stack started, by PID
  audit-stack run [--brokers 1|3]  the main job (npm start): start the stack and every service, restart any that exits,
                                   stop all on Ctrl-C or SIGTERM
  audit-stack demo                 the scripted demo (audit-pipeline demo) on the running pipeline, or else on
                                   one started for it and stopped afterwards (npm run demo)

  --brokers 3 runs Kafka as a three-node KRaft cluster (replication factor 3, min.insync.replicas 2);
  the default is one node. With npm: npm start -- --brokers 3, npm run stack -- --brokers 3.

Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, CLICKHOUSE_URL use existing infrastructure instead
of starting it; AUDIT_STACK_BROKERS (1 or 3) is --brokers' default; AUDIT_STACK_MAX_RESTARTS stops
restarting a process that exited that many times in a row within a minute of starting (default:
never stop); AUDIT_STACK_DIR (default .stack/) holds PIDs, data and logs; AUDIT_CACHE_DIR (default
~/.cache/audit-pipeline) holds the Maven downloads.`

const print = (line: string): void => void process.stdout.write(`${line}\n`)

/** A command-line mistake: said with the usage, exit code 2. */
class UsageError extends Error {}

/** The options of a command; anything else is refused, naming it. */
function optionsOf(command: string, args: string[], accepted: readonly 'brokers'[]): { brokers?: string } {
  try {
    const { values } = parseArgs({
      args,
      options: Object.fromEntries(accepted.map((name) => [name, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    })
    return values
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}; \`audit-stack ${command}\` takes ${accepted.length > 0 ? accepted.map((o) => `--${o}`).join(', ') : 'no options'}`,
    )
  }
}

async function up(args: string[]): Promise<void> {
  const { brokers } = optionsOf('up', args, ['brokers'])
  const size = requestedClusterSize(process.env, brokers)
  const stack = await startStack({
    env: process.env,
    log: print,
    ...(size !== undefined && { brokers: size }),
  })
  print(
    stack.reused
      ? `A local stack is already running (since ${stack.state.startedAt}); reusing it:`
      : `Local stack ready in ${stack.startSeconds.toFixed(1)} s:`,
  )
  await checkStackClickHouse(stack.state)
  print(describeStack(stack.state))
  print('\n  Stop it with: npm run stack:down')
}

async function down(args: string[]): Promise<void> {
  optionsOf('down', args, [])
  const stateDir = defaultStateDir(process.env)
  const stopped = await stopStack(stateDir)
  if (!stopped) return print(`No local stack is running in ${stateDir}.`)
  for (const { name, pid, outcome } of stopped) print(`  ${name} (pid ${pid}): ${outcome}`)
  print('Local stack stopped.')
}

function status(args: string[]): void {
  optionsOf('status', args, [])
  const stateDir = defaultStateDir(process.env)
  const state = readStackState(stateDir)
  const supervision = readSupervisionState(stateDir)
  if (!state && !supervision) {
    return print(`No local stack is running in ${stateDir}. Start one with: npm run stack (or npm start)`)
  }
  const rows = processRows(state, supervision, {
    isRunning: (pid) => isOurProcess(pid, stateDir),
    errorLineOf: (file) => lastErrorLine(logTail(file)),
  })
  const restarting = rows.filter((row) => row.state === 'restarting').map((row) => row.name)
  const running = state !== undefined && isStackRunning(state)
  if (state) {
    print(
      running
        ? `Local stack running since ${state.startedAt}:`
        : restarting.length > 0
          ? `Local stack running since ${state.startedAt}, restarting ${restarting.join(', ')}:`
          : 'Local stack is partly down (run `npm run stack:down`, then start it again):',
    )
    print(describeStack(state))
    print('')
  }
  print(
    supervision
      ? `Processes (npm start, pid ${supervision.ownerPid}, restarts whatever exits):`
      : 'Processes (nothing restarts them: npm start is not running):',
  )
  print(describeProcesses(rows))
  if (
    rows.some((row) => row.state === 'exited' || row.state === 'gave up') ||
    (state && !running && restarting.length === 0)
  ) {
    process.exitCode = 1
  }
}

/** The main job: the stack and every pipeline service, until Ctrl-C or SIGTERM stops them all. */
async function runAll(args: string[]): Promise<void> {
  const { brokers } = optionsOf('run', args, ['brokers'])
  const size = requestedClusterSize(process.env, brokers)
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
  started.pipeline = await startPipeline({
    env: process.env,
    ownerPid: process.pid,
    log: print,
    ...(size !== undefined && { brokers: size }),
  })
  print(started.pipeline.describe())
  // Keep the process alive until a signal arrives.
  setInterval(() => undefined, 1 << 30)
}

/** `npm run demo`: the CLI's demo, on a pipeline of its own when none runs. */
async function demo(args: string[]): Promise<void> {
  optionsOf('demo', args, [])
  process.exitCode = await demoCommand(process.env)
}

const commands: Record<string, (args: string[]) => Promise<void> | void> = {
  up,
  down,
  status,
  run: runAll,
  demo,
}
const [name = '', ...args] = process.argv.slice(2)
const command = commands[name]
if (!command) {
  print(usage)
  process.exitCode = name && !['help', '--help', '-h'].includes(name) ? 2 : 0
} else {
  try {
    await command(args)
  } catch (error) {
    // Our errors say what to do; a stack trace would bury that. AUDIT_DEBUG=1 shows it.
    const detail =
      error instanceof Error && !process.env['AUDIT_DEBUG']
        ? error.message
        : String(error instanceof Error ? error.stack : error)
    process.stderr.write(`audit-stack ${name}: ${detail}\n`)
    if (error instanceof UsageError) process.stderr.write(`\n${usage}\n`)
    process.exit(error instanceof UsageError ? 2 : 1)
  }
}
