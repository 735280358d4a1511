import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const completeMarker = '.complete'

/**
 * Runs a Maven goal that fills a folder, once: the folder is filled under a temporary name and
 * renamed into place when complete, so an interrupted download is never mistaken for a cached one
 * and later runs start offline without invoking Maven at all.
 */
export async function fetchOnceWithMaven(options: {
  /** What is being fetched, for messages: "Apache Kafka 4.4.0". */
  what: string
  /** The cached folder to produce. */
  targetDir: string
  /** Maven arguments; `{dir}` is replaced by the folder being filled. */
  mavenArgs: readonly string[]
  mvn?: string
}): Promise<{ dir: string; fetched: boolean }> {
  const { targetDir, what } = options
  if (existsSync(`${targetDir}/${completeMarker}`)) return { dir: targetDir, fetched: false }

  mkdirSync(dirname(targetDir), { recursive: true })
  const workDir = `${targetDir}.partial-${process.pid}`
  rmSync(workDir, { recursive: true, force: true })
  mkdirSync(workDir, { recursive: true })
  const args = ['-B', '-q', ...options.mavenArgs.map((arg) => arg.replaceAll('{dir}', workDir))]
  try {
    await run(options.mvn ?? 'mvn', args, { maxBuffer: 16 * 1024 * 1024 })
  } catch (error) {
    rmSync(workDir, { recursive: true, force: true })
    const output = error as { stdout?: string; stderr?: string; message: string }
    const detail = `${output.stdout ?? ''}${output.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n')
    throw new Error(
      `could not fetch ${what} from Maven Central (mvn ${args.join(' ')}):\n${detail || output.message}`,
    )
  }
  writeFileSync(`${workDir}/${completeMarker}`, new Date().toISOString())
  try {
    renameSync(workDir, targetDir)
  } catch (error) {
    // Another process finished the same download first: use theirs.
    rmSync(workDir, { recursive: true, force: true })
    if (!existsSync(`${targetDir}/${completeMarker}`)) throw error
  }
  return { dir: targetDir, fetched: true }
}
