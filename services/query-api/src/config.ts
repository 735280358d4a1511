import { readFileSync, statSync } from 'node:fs'
import { parseKeyEncryptionKey } from '@audit-pipeline/field-encryption'
import {
  collectProblems,
  ConfigError,
  ConfigFileError,
  formatConfigFileProblem,
  envValues,
  fieldKeysPairProblem,
  serviceConnections,
  unknownSettings,
  parseSettings,
  pipelineTopics,
  type ServiceClickHouse,
  type ConfigProblem,
  type KafkaSettings,
  type SchemaRegistrySettings,
} from '@audit-pipeline/config'
import { opsEnvShape, opsSettingsFrom, type OpsSettings } from '@audit-pipeline/service-runtime'
import { z } from 'zod'
import { parseApiKeys, type ApiKey } from '@audit-pipeline/api-keys'
import { defaultAnalystVisibility, type AnalystVisibility } from './access/analystVisibility.js'
import { parseAnalystVisibility } from './access/analystVisibilityFile.js'
import { defaultQueryApiLimits, type QueryApiLimits } from './app.js'

/** The query API's settings, validated. */
export type QueryApiConfig = {
  /** Where the API listens. */
  host: string
  port: number
  /** The keys as read at start-up; the running API follows the file (access/keyRing.ts). */
  keys: ApiKey[]
  keysFile: string
  /**
   * What analysts see of the actor's IP, session id and user agent and of attributes, per tenant,
   * as read at start-up; the running API follows the file (access/analystVisibilityWatch.ts).
   * Without the file: IP and session id hidden, the rest visible.
   */
  analystVisibility: AnalystVisibility
  /** QUERY_API_ANALYST_VISIBILITY_FILE; absent: the built-in default, nothing to follow. */
  analystVisibilityFile?: string
  limits: QueryApiLimits
  /** Embedded needs a data folder (CLICKHOUSE_EMBEDDED_PATH); only one process may open it. */
  clickhouse: ServiceClickHouse
  /** Access records go here as canonical audit events, on their own topic (QUERY_API_AUDIT_TOPIC). */
  kafka: KafkaSettings
  schemaRegistry: SchemaRegistrySettings
  accessAuditTopic: string
  /** Tenant of access records whose request names no tenant. */
  accessAuditTenant: string
  ops: OpsSettings
  /**
   * The key store sealed values open with (FIELD_KEYS_DIR, FIELD_KEYS_KEK_FILE): auditors read
   * them in the clear. Absent: auditors see sealed values as stored.
   */
  fieldKeys?: FieldKeysSettings
}

/**
 * Where the data keys of sealed values live: packages/field-encryption's local key store, shared
 * with the service that seals. Both settings or neither; unset, auditors see sealed values as stored.
 */
export type FieldKeysSettings = {
  /** FIELD_KEYS_DIR: the key store's folder (the one the sealing service writes). Must exist. */
  directory: string
  /** FIELD_KEYS_KEK_FILE: the key-encryption key file, the base64 of 32 bytes. */
  keyEncryptionKeyFile: string
  /** The key-encryption key read from that file: 32 bytes. */
  keyEncryptionKey: Buffer
}

/** The ops port when OPS_PORT is unset. */
export const queryApiOpsPort = 9468

const { positiveInt, kafkaTopic } = envValues

const shape = {
  /** Address the API listens on. Default 127.0.0.1. */
  QUERY_API_HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** TCP port of the API, 0..65535 (0: any free port). Default 8480. */
  QUERY_API_PORT: z
    .string()
    .trim()
    .refine(
      (port) => /^\d{1,5}$/.test(port) && Number(port) <= 65535,
      'expected a port number from 0 to 65535',
    )
    .transform(Number)
    .default(8480),
  /** The API keys file (JSON, see README "Keys"). Required. */
  QUERY_API_KEYS_FILE: z.string().trim().min(1, 'required: the API keys file (README "Keys")'),
  /**
   * Which of the actor's IP, session id, user agent and the attributes analysts see, per tenant
   * (YAML or JSON, see README "Analyst visibility"). Unset: IP and session id hidden, the rest visible.
   */
  QUERY_API_ANALYST_VISIBILITY_FILE: z.string().trim().min(1).optional(),
  /** Rows per page of events, timeline and alerts. Default 1000. */
  QUERY_API_MAX_PAGE_ROWS: positiveInt('1000').default(defaultQueryApiLimits.maxPageRows),
  /** Groups per counts answer. Default 10000. */
  QUERY_API_MAX_COUNT_GROUPS: positiveInt('10000').default(defaultQueryApiLimits.maxCountGroups),
  /** Rows per export. Default 1000000. */
  QUERY_API_MAX_EXPORT_ROWS: positiveInt('1000000').default(defaultQueryApiLimits.maxExportRows),
  /** Memory one query may use in ClickHouse, bytes. Default 268435456 (256 MiB). */
  QUERY_API_MAX_MEMORY_BYTES: positiveInt('268435456').default(defaultQueryApiLimits.caps.maxMemoryBytes),
  /** Rows one query may read. Default 100000000. */
  QUERY_API_MAX_ROWS_TO_READ: positiveInt('100000000').default(defaultQueryApiLimits.caps.maxRowsToRead),
  /** Bytes one answer may hold in ClickHouse. Default 67108864 (64 MiB). */
  QUERY_API_MAX_RESULT_BYTES: positiveInt('67108864').default(defaultQueryApiLimits.caps.maxResultBytes),
  /** How long one query may run, seconds. Default 10. */
  QUERY_API_MAX_EXECUTION_SECONDS: positiveInt('10').default(defaultQueryApiLimits.caps.maxExecutionSeconds),
  /** Queries running at once. Default 4. */
  QUERY_API_MAX_CONCURRENT_QUERIES: positiveInt('4').default(defaultQueryApiLimits.maxConcurrentQueries),
  /** Queries waiting for a slot before 503. Default 64. */
  QUERY_API_MAX_QUEUED_QUERIES: positiveInt('64').default(defaultQueryApiLimits.maxQueuedQueries),
  /** Requests one key may make per minute (429 beyond). Default 600. */
  QUERY_API_RATE_LIMIT_PER_MINUTE: positiveInt('600').default(defaultQueryApiLimits.requestsPerMinute),
  /** Failed authentications one address may make per minute (429 beyond). Default 30. */
  QUERY_API_AUTH_FAILURES_PER_MINUTE: positiveInt('30').default(defaultQueryApiLimits.authFailuresPerMinute),
  /** Rows an SQL answer may have; a bigger one is refused. Default 10000. */
  QUERY_API_SQL_MAX_RESULT_ROWS: positiveInt('10000').default(defaultQueryApiLimits.sql.maxResultRows),
  /**
   * Where access records are sent: the access-records topic the sink stores (SINK_ACCESS_TOPICS),
   * never the producers' topic, whose events may not claim to be access records. Default audit.access.
   */
  QUERY_API_AUDIT_TOPIC: kafkaTopic().default(pipelineTopics.access.name),
  /** Tenant of access records that name none. Default audit-pipeline. */
  QUERY_API_AUDIT_TENANT: z.string().trim().min(1).default('audit-pipeline'),
  ...opsEnvShape,
}

const knownVariables = new Set(Object.keys(shape))

/**
 * Reads and checks every setting, the keys file and the analyst visibility file; throws
 * ConfigError listing every bad one (a file's problems name the file, the entry and the field).
 */
export function loadQueryApiConfig(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
  isFolder: (path: string) => boolean = (path) =>
    statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false,
): QueryApiConfig {
  const problems = unknownSettings(env, 'QUERY_API_', knownVariables, 'query API')
  const connections = serviceConnections(env, { clickhouse: true }, problems)
  const s = collectProblems(() => parseSettings(z.object(shape), env), problems)
  // Read even when other settings are wrong, so one start-up reports every problem.
  const keysFile = env['QUERY_API_KEYS_FILE']?.trim()
  const keys = keysFile
    ? collectFile('QUERY_API_KEYS_FILE', keysFile, readFile, parseApiKeys, problems)
    : undefined
  const visibilityFile = env['QUERY_API_ANALYST_VISIBILITY_FILE']?.trim() || undefined
  const analystVisibility = visibilityFile
    ? collectFile(
        'QUERY_API_ANALYST_VISIBILITY_FILE',
        visibilityFile,
        readFile,
        parseAnalystVisibility,
        problems,
      )
    : defaultAnalystVisibility
  const fieldKeys = collectFieldKeys(env, readFile, isFolder, problems)
  if (problems.length > 0 || !connections || !s || !keys || !analystVisibility) {
    throw new ConfigError(problems)
  }
  return {
    host: s.QUERY_API_HOST,
    port: s.QUERY_API_PORT,
    keys,
    keysFile: s.QUERY_API_KEYS_FILE,
    analystVisibility,
    ...(visibilityFile && { analystVisibilityFile: visibilityFile }),
    limits: {
      maxPageRows: s.QUERY_API_MAX_PAGE_ROWS,
      maxCountGroups: s.QUERY_API_MAX_COUNT_GROUPS,
      maxExportRows: s.QUERY_API_MAX_EXPORT_ROWS,
      caps: {
        maxMemoryBytes: s.QUERY_API_MAX_MEMORY_BYTES,
        maxRowsToRead: s.QUERY_API_MAX_ROWS_TO_READ,
        maxResultBytes: s.QUERY_API_MAX_RESULT_BYTES,
        maxExecutionSeconds: s.QUERY_API_MAX_EXECUTION_SECONDS,
      },
      maxConcurrentQueries: s.QUERY_API_MAX_CONCURRENT_QUERIES,
      maxQueuedQueries: s.QUERY_API_MAX_QUEUED_QUERIES,
      requestsPerMinute: s.QUERY_API_RATE_LIMIT_PER_MINUTE,
      authFailuresPerMinute: s.QUERY_API_AUTH_FAILURES_PER_MINUTE,
      sql: { maxResultRows: s.QUERY_API_SQL_MAX_RESULT_ROWS },
    },
    ...connections,
    accessAuditTopic: s.QUERY_API_AUDIT_TOPIC,
    accessAuditTenant: s.QUERY_API_AUDIT_TENANT,
    ops: opsSettingsFrom(s, { defaultPort: queryApiOpsPort }),
    ...(fieldKeys && { fieldKeys }),
  }
}

/**
 * FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE: both or neither. The folder must exist (a mistyped one
 * would make every sealed value unreadable, quietly) and the file must hold a key-encryption key,
 * as packages/field-encryption's readKeyEncryptionKeyFile reads one: the base64 of 32 bytes. A
 * wrong but well-formed key is only found on the first sealed value it does not unwrap.
 */
function collectFieldKeys(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
  isFolder: (path: string) => boolean,
  problems: ConfigProblem[],
): FieldKeysSettings | undefined {
  const directory = env['FIELD_KEYS_DIR']?.trim() || undefined
  const keyEncryptionKeyFile = env['FIELD_KEYS_KEK_FILE']?.trim() || undefined
  const unpaired = fieldKeysPairProblem(directory, keyEncryptionKeyFile)
  if (unpaired) problems.push(unpaired)
  if (directory === undefined || keyEncryptionKeyFile === undefined) return undefined
  const before = problems.length
  if (!isFolder(directory)) {
    problems.push({ setting: 'FIELD_KEYS_DIR', message: `${directory} is not a folder` })
  }
  let text: string | undefined
  try {
    text = readFile(keyEncryptionKeyFile).trim()
  } catch (error) {
    problems.push({
      setting: 'FIELD_KEYS_KEK_FILE',
      message: `cannot read ${keyEncryptionKeyFile}: ${(error as Error).message}`,
    })
  }
  let keyEncryptionKey: Buffer | undefined
  try {
    if (text !== undefined) keyEncryptionKey = parseKeyEncryptionKey(text, keyEncryptionKeyFile)
  } catch (error) {
    problems.push({ setting: 'FIELD_KEYS_KEK_FILE', message: (error as Error).message })
  }
  if (problems.length > before || keyEncryptionKey === undefined) return undefined
  return { directory, keyEncryptionKeyFile, keyEncryptionKey }
}

/**
 * A settings file read and parsed (the keys file, the analyst visibility file), each problem on
 * its own line beside the other settings', naming the file, line and entry
 * (`QUERY_API_KEYS_FILE: keys.json: keys.0.role: …`).
 */
function collectFile<T>(
  setting: string,
  file: string,
  readFile: (path: string) => string,
  parse: (text: string, file: string) => T,
  problems: ConfigProblem[],
): T | undefined {
  let text: string
  try {
    text = readFile(file)
  } catch (error) {
    problems.push({ setting, message: `cannot read ${file}: ${(error as Error).message}` })
    return undefined
  }
  try {
    return parse(text, file)
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error
    for (const problem of (error as ConfigFileError).problems) {
      problems.push({ setting, message: formatConfigFileProblem(problem) })
    }
    return undefined
  }
}
