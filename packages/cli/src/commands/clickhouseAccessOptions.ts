import { isAbsolute, resolve } from 'node:path'
import {
  defaultQuotaLimits,
  defaultReaderLimits,
  type QuotaLimits,
  type ReaderLimits,
} from '@audit-pipeline/storage'
import { positiveInteger } from './queryOptions.js'

/** `clickhouse access apply`'s flags as commander hands them over: strings, unchecked. */
export type AccessApplyFlags = {
  dryRun?: boolean
  database?: string
  /** Every --tenant given, in order. */
  tenant: string[]
  keysFile?: string
  maxMemoryBytes?: string
  maxExecutionSeconds?: string
  maxRowsToRead?: string
  maxResultRows?: string
  maxResultBytes?: string
  quotaQueriesPerHour?: string
  quotaReadRowsPerHour?: string
  quotaExecutionSecondsPerHour?: string
}

/** The flags checked: every bad one is named with what it accepts. */
export type AccessApplyRequest = {
  dryRun: boolean
  /** Unset: CLICKHOUSE_DATABASE (default `audit`). */
  database?: string
  /** The --tenant flags, in order. */
  tenants: string[]
  /** Where the API keys are, and which setting said so; unset when neither flag nor variable is. */
  keysFile?: { path: string; origin: '--keys-file' | 'QUERY_API_KEYS_FILE' }
  limits: ReaderLimits
  quota: QuotaLimits
}

export function parseAccessApplyFlags(
  flags: AccessApplyFlags,
  env: NodeJS.ProcessEnv,
  cwd = process.cwd(),
): AccessApplyRequest {
  const problems: string[] = []
  const number = (option: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback
    try {
      return positiveInteger(option, value)
    } catch (error) {
      problems.push((error as Error).message)
      return fallback
    }
  }
  const limits: ReaderLimits = {
    maxMemoryBytes: number('--max-memory-bytes', flags.maxMemoryBytes, defaultReaderLimits.maxMemoryBytes),
    maxExecutionSeconds: number(
      '--max-execution-seconds',
      flags.maxExecutionSeconds,
      defaultReaderLimits.maxExecutionSeconds,
    ),
    maxRowsToRead: number('--max-rows-to-read', flags.maxRowsToRead, defaultReaderLimits.maxRowsToRead),
    maxResultRows: number('--max-result-rows', flags.maxResultRows, defaultReaderLimits.maxResultRows),
    maxResultBytes: number('--max-result-bytes', flags.maxResultBytes, defaultReaderLimits.maxResultBytes),
  }
  const quota: QuotaLimits = {
    queriesPerHour: number(
      '--quota-queries-per-hour',
      flags.quotaQueriesPerHour,
      defaultQuotaLimits.queriesPerHour,
    ),
    readRowsPerHour: number(
      '--quota-read-rows-per-hour',
      flags.quotaReadRowsPerHour,
      defaultQuotaLimits.readRowsPerHour,
    ),
    executionSecondsPerHour: number(
      '--quota-execution-seconds-per-hour',
      flags.quotaExecutionSecondsPerHour,
      defaultQuotaLimits.executionSecondsPerHour,
    ),
  }
  if (flags.database !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(flags.database)) {
    problems.push(
      `--database must be letters, digits and _, not starting with a digit; got '${flags.database}'`,
    )
  }
  for (const tenant of flags.tenant) {
    if (tenant.trim() === '') problems.push('--tenant must not be empty')
  }
  if (flags.keysFile !== undefined && flags.keysFile.trim() === '') {
    problems.push('--keys-file must not be empty')
  }
  if (problems.length > 0) throw new Error(problems.join('; '))

  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path))
  const fromEnv = env['QUERY_API_KEYS_FILE']?.trim()
  const keysFile =
    flags.keysFile !== undefined
      ? { path: absolute(flags.keysFile), origin: '--keys-file' as const }
      : fromEnv
        ? { path: absolute(fromEnv), origin: 'QUERY_API_KEYS_FILE' as const }
        : undefined
  return {
    dryRun: flags.dryRun === true,
    ...(flags.database !== undefined && { database: flags.database }),
    tenants: flags.tenant,
    ...(keysFile && { keysFile }),
    limits,
    quota,
  }
}

/**
 * Every tenant a key of the query API's keys file is restricted to (`keys[].tenants`); keys that
 * read every tenant list none. Read here rather than through the API's own parser so that this
 * command depends on the file's one field it needs, and accepts any file the API accepts: only
 * that field's shape is checked, and named with the file and key when wrong.
 */
export function tenantsOfKeysFile(text: string, fileName: string): string[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new Error(`${fileName}: not JSON: ${(error as Error).message}`)
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) throw new Error(`${fileName}: expected {"keys": [...]}`)
  return keys.flatMap((key: unknown, index) => {
    const tenants = (key as { tenants?: unknown } | null)?.tenants
    if (tenants === undefined) return []
    if (!Array.isArray(tenants) || !tenants.every((t) => typeof t === 'string' && t !== '')) {
      throw new Error(`${fileName}: keys.${index}.tenants: expected a list of tenant names`)
    }
    return tenants as string[]
  })
}

/**
 * The passwords of the users to create, from the environment (never flags: a command line is
 * visible to every user of the machine). Empty counts as unset.
 */
export function userPasswords(env: NodeJS.ProcessEnv): { sink?: string; queryApi?: string } {
  const sink = env['CLICKHOUSE_SINK_PASSWORD']
  const queryApi = env['CLICKHOUSE_QUERY_API_PASSWORD']
  return { ...(sink && { sink }), ...(queryApi && { queryApi }) }
}
