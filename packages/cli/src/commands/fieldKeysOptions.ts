import { isAbsolute, resolve } from 'node:path'

/** The flags naming the key store, as commander hands them over. */
export type FieldKeysFlags = { keysDir?: string; kekFile?: string }

/** Where the key store is, and which setting said so (what errors name). */
export type FieldKeysLocation = {
  directory: { path: string; setting: string }
  kekFile: { path: string; setting: string }
}

/** The key store a running `npm start` recorded in its pipeline.json (deploy/local-stack). */
export type RecordedFieldKeys = { directory: string; kekFile: string }

/** The running `npm start`, as far as the key store goes. */
export type RunningStack = { stateDir: string; fieldKeys: RecordedFieldKeys | undefined }

const folderSetting = 'FIELD_KEYS_DIR (or --keys-dir: the data keys folder)'
const kekSetting = 'FIELD_KEYS_KEK_FILE (or --kek-file: the key-encryption key file)'

/**
 * Each of the folder and the key-encryption key file from its flag, else its variable (as the
 * normalizer and the query API read it), else the running `npm start`'s pipeline.json. Throws
 * naming what is missing: `erase` cannot go without the store. Paths are made absolute against
 * `cwd`.
 */
export function requiredFieldKeysLocation(
  flags: FieldKeysFlags,
  env: Record<string, string | undefined>,
  running: RunningStack,
  cwd: string,
): FieldKeysLocation {
  const { directory, kekFile } = pickFieldKeys(flags, env, running, cwd)
  if (!directory || !kekFile) {
    const missing = [!directory && folderSetting, !kekFile && kekSetting].filter(Boolean)
    throw new Error(
      `${missing.join(' and ')} not set, and no npm start is running in ${running.stateDir}: set ${missing.length > 1 ? 'them' : 'it'} to what the normalizer and the query API use`,
    )
  }
  return { directory, kekFile }
}

/**
 * The key store as requiredFieldKeysLocation finds it, or undefined when nothing names either
 * half: for commands that do without it (`dlq list` then shows sealed dead letters sealed). Half
 * a store is a mistake, and throws naming the missing half.
 */
export function optionalFieldKeysLocation(
  flags: FieldKeysFlags,
  env: Record<string, string | undefined>,
  running: RunningStack,
  cwd: string,
): FieldKeysLocation | undefined {
  const { directory, kekFile } = pickFieldKeys(flags, env, running, cwd)
  if (directory && kekFile) return { directory, kekFile }
  if (!directory && !kekFile) return undefined
  const [missing, given] = directory ? [kekSetting, directory.setting] : [folderSetting, kekFile!.setting]
  throw new Error(`${missing} not set, but ${given} is: set both (the normalizer's), or neither`)
}

/** The key store `npm start` recorded in its pipeline.json, when the file says where. */
export function recordedFieldKeys(pipeline: object | undefined): RecordedFieldKeys | undefined {
  const fieldKeys = (pipeline as { fieldKeys?: unknown } | undefined)?.fieldKeys
  if (typeof fieldKeys !== 'object' || fieldKeys === null) return undefined
  const { directory, kekFile } = fieldKeys as Record<string, unknown>
  return typeof directory === 'string' && typeof kekFile === 'string' ? { directory, kekFile } : undefined
}

function pickFieldKeys(
  flags: FieldKeysFlags,
  env: Record<string, string | undefined>,
  running: RunningStack,
  cwd: string,
): Partial<FieldKeysLocation> {
  const recorded = `the running npm start's ${running.stateDir}/pipeline.json`
  const pick = (
    flag: string,
    flagValue: string | undefined,
    variable: string,
    fromStack: string | undefined,
  ) => {
    if (flagValue !== undefined) return { path: absolute(cwd, nonEmpty(flag, flagValue)), setting: flag }
    const set = env[variable]?.trim()
    if (set) return { path: absolute(cwd, set), setting: variable }
    if (fromStack !== undefined) return { path: fromStack, setting: `${variable} (from ${recorded})` }
    return undefined
  }
  const directory = pick('--keys-dir', flags.keysDir, 'FIELD_KEYS_DIR', running.fieldKeys?.directory)
  const kekFile = pick('--kek-file', flags.kekFile, 'FIELD_KEYS_KEK_FILE', running.fieldKeys?.kekFile)
  return { ...(directory && { directory }), ...(kekFile && { kekFile }) }
}

function absolute(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path)
}

function nonEmpty(option: string, value: string): string {
  if (value.trim() !== '') return value
  throw new Error(`${option} must not be empty`)
}
