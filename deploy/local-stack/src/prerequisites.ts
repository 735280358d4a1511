import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A missing tool, said in one line with what to install. */
export class MissingPrerequisiteError extends Error {
  override name = 'MissingPrerequisiteError'
}

const overrideHint =
  'or use existing services by setting KAFKA_BROKERS and SCHEMA_REGISTRY_URL (README: "Using existing infrastructure")'

/** `java -version` prints e.g. `openjdk version "17.0.15"` or `"1.8.0_392"`. */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput)
  if (!match) return undefined
  const first = Number(match[1])
  return first === 1 ? Number(match[2]) : first
}

export async function javaMajorOf(java: string): Promise<number | undefined> {
  try {
    const { stderr, stdout } = await run(java, ['-version'])
    return parseJavaMajor(stderr + stdout)
  } catch {
    return undefined
  }
}

/**
 * Where to look for a JDK, in order: JAVA_HOME, the `java` on PATH, then the JDKs installed side
 * by side under /usr/lib/jvm (Debian's layout), newest name last.
 */
export function javaCandidates(env: NodeJS.ProcessEnv, jvmRoot = '/usr/lib/jvm'): string[] {
  const installed = existsSync(jvmRoot)
    ? readdirSync(jvmRoot)
        .map((name) => join(jvmRoot, name, 'bin/java'))
        .filter((path) => existsSync(path))
        .sort()
    : []
  return [...(env['JAVA_HOME'] ? [join(env['JAVA_HOME'], 'bin/java')] : []), 'java', ...installed]
}

/** The first JDK of at least `minMajor` among the candidates, or an error naming what to install. */
export async function findJava(
  minMajor: number,
  purpose: string,
  candidates: readonly string[],
): Promise<{ java: string; major: number }> {
  const seen: string[] = []
  for (const java of new Set(candidates)) {
    const major = await javaMajorOf(java)
    if (major === undefined) continue
    if (major >= minMajor) return { java, major }
    seen.push(`${java} is ${major}`)
  }
  throw new MissingPrerequisiteError(
    `Java ${minMajor} or newer is needed to run ${purpose}, and ${seen.length ? `none was found (${seen.join(', ')})` : 'no java was found'}: install a JDK ${minMajor}+ or set JAVA_HOME to one, ${overrideHint}`,
  )
}

export async function checkMaven(mvn = 'mvn'): Promise<void> {
  try {
    await run(mvn, ['--version'])
  } catch {
    throw new MissingPrerequisiteError(
      `Maven is needed once to fetch Kafka and the schema registry from Maven Central, and \`${mvn}\` was not found: install it (Debian/Ubuntu: apt-get install maven), ${overrideHint}`,
    )
  }
}
