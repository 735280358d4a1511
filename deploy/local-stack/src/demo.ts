import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { constants } from 'node:os'
import { join, relative } from 'node:path'
import { defaultStateDir, readRunningPipeline, type PipelineEndpoints } from '@audit-pipeline/stack-state'
import { repoRoot } from './paths.js'
import { startPipeline } from './pipeline.js'

/**
 * The CLI that plays the scenario (packages/cli, a floor below deploy/). Run as a process, as the
 * services are, so the CLI never needs the stack's code: it finds the pipeline in the state folder.
 */
export const cliMain = join(repoRoot, 'packages/cli/dist/main.js')

/** A started `audit-pipeline demo`. */
export type CliDemo = {
  /** Its exit code: the demo's verdict (0 only if every check passed). */
  exited: Promise<number>
  stop(): void
}

/** What `audit-stack demo` is made of; the command wires the real ones, tests pass stubs. */
export type DemoSteps = {
  /** The pipeline running in the state folder (`npm start`), if one is. */
  runningPipeline(): PipelineEndpoints | undefined
  startPipeline(): Promise<{ services: readonly { name: string }[]; stop(): Promise<void> }>
  startCliDemo(): CliDemo
  /** Calls `handler` on the first SIGINT or SIGTERM, until the returned function is called. */
  onInterrupt(handler: () => void): () => void
  exit(code: number): void
  log(line: string): void
}

/**
 * `audit-stack demo` (`npm run demo`): the CLI's demo on the running pipeline when there is one,
 * left as it is; otherwise on a pipeline started for it and stopped afterwards, also on Ctrl-C or
 * SIGTERM. Resolves with the CLI's exit code.
 */
export async function runDemo(steps: DemoSteps): Promise<number> {
  if (steps.runningPipeline()) return steps.startCliDemo().exited
  steps.log('Starting the pipeline: Kafka, the schema registry, embedded ClickHouse and every service…')
  const pipeline = await steps.startPipeline()
  let stopping: Promise<void> | undefined
  // Once: an interrupt and the end of the demo may both ask.
  const stopPipeline = () => {
    if (!stopping) {
      steps.log('Stopping the pipeline…')
      stopping = pipeline.stop()
    }
    return stopping
  }
  let demo: CliDemo | undefined
  const offInterrupt = steps.onInterrupt(() => {
    demo?.stop()
    stopPipeline().then(
      () => steps.exit(130),
      (error: unknown) => {
        steps.log(`Could not stop the pipeline: ${error instanceof Error ? error.message : String(error)}`)
        steps.exit(130)
      },
    )
  })
  try {
    steps.log(`Pipeline up (${pipeline.services.map((service) => service.name).join(', ')}).`)
    demo = steps.startCliDemo()
    return await demo.exited
  } finally {
    offInterrupt()
    await stopPipeline()
  }
}

/** A child's exit as a shell reports it: its code, or 128 + the number of the signal that ended it. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code
  return signal ? 128 + constants.signals[signal] : 1
}

/** The command: checks the CLI is built before anything starts, then runs the demo for real. */
export async function demoCommand(env: NodeJS.ProcessEnv): Promise<number> {
  if (!existsSync(cliMain)) {
    throw new Error(
      `the CLI is not built (${relative(repoRoot, cliMain)} is missing): run \`npm run build\` (npm run demo builds first)`,
    )
  }
  const log = (line: string) => void process.stderr.write(`${line}\n`)
  const stateDir = defaultStateDir(env)
  return runDemo({
    runningPipeline: () => readRunningPipeline(stateDir),
    startPipeline: () => startPipeline({ env, ownerPid: process.pid, log: (line) => log(`  ${line}`) }),
    startCliDemo: () => startCliDemo(env),
    onInterrupt: (handler) => {
      process.once('SIGINT', handler)
      process.once('SIGTERM', handler)
      return () => {
        process.off('SIGINT', handler)
        process.off('SIGTERM', handler)
      }
    },
    exit: (code) => process.exit(code),
    log,
  })
}

/** `node packages/cli/dist/main.js demo` on this terminal; it finds the pipeline as any CLI command does. */
function startCliDemo(env: NodeJS.ProcessEnv): CliDemo {
  const child = spawn(process.execPath, [cliMain, 'demo'], { env, stdio: 'inherit' })
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)))
  })
  return { exited, stop: () => void child.kill('SIGTERM') }
}
