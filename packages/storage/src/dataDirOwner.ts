import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Who holds an embedded data directory, read from the `status` file the engine keeps there
 * while it has the directory locked (`PID: 1234` on its first line).
 *
 * chDB reports a locked directory only as "Failed to create connection for path …"; the real
 * reason ("Cannot lock file …/status. Another server instance in same directory is already
 * running") goes to stderr, not into the error. The status file is how we tell that case apart.
 * A stale file left by a killed process does not stop an open, so it is only consulted after an
 * open failed.
 */
export async function dataDirOwner(dataPath: string): Promise<{ pid: number | undefined } | undefined> {
  let status: string
  try {
    status = await readFile(join(dataPath, 'status'), 'utf8')
  } catch {
    return undefined // no status file: nobody holds the directory
  }
  return { pid: statusFilePid(status) }
}

export function statusFilePid(status: string): number | undefined {
  const match = /^PID:\s*(\d+)\s*$/m.exec(status)
  return match?.[1] === undefined ? undefined : Number(match[1])
}
