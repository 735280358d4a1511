import { readFileSync, renameSync, writeFileSync, type WriteFileOptions } from 'node:fs'

/** Writes `value` as JSON through a temporary file and a rename, so a reader never sees half a file. */
export function writeJsonFile(file: string, value: unknown, options?: WriteFileOptions): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`, options)
  renameSync(`${file}.tmp`, file)
}

/**
 * Reads a JSON object from a state file, or throws naming the file and what to do: these files are
 * written by audit-stack, so one that does not parse was edited or truncated by something else.
 */
export function readJsonObject(file: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new Error(
      `${file} is not a readable ${what} (${(error as Error).message}); stop what it names (audit-stack down) or delete it`,
      { cause: error },
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${file} is not a ${what}: expected a JSON object; delete it`)
  }
  return value as Record<string, unknown>
}
