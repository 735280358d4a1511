import type { ConfigProblem } from './configError.js'
import {
  loadConnectionSettings,
  type ClickHouseSettings,
  type KafkaSettings,
  type SchemaRegistrySettings,
} from './connectionSettings.js'
import { collectProblems } from './envValues.js'

/**
 * A misspelt `<prefix>*` variable would otherwise be ignored and its default silently used: one
 * problem per variable that starts with `prefix`, is set, and is not in `known`.
 */
export function unknownSettings(
  env: Record<string, string | undefined>,
  prefix: string,
  known: ReadonlySet<string>,
  service: string,
): ConfigProblem[] {
  const reads = [...known].filter((name) => name.startsWith(prefix)).join(', ')
  return Object.keys(env)
    .filter((name) => name.startsWith(prefix) && !known.has(name) && env[name]?.trim())
    .map((name) => ({ setting: name, message: `unknown setting; the ${service} reads: ${reads}` }))
}

/** ClickHouse as a service needs it: a server URL, or an embedded data folder. */
export type ServiceClickHouse = ClickHouseSettings &
  ({ kind: 'http' } | { kind: 'embedded'; dataPath: string })

export type ServiceConnections = {
  kafka: KafkaSettings
  schemaRegistry: SchemaRegistrySettings
  clickhouse?: ServiceClickHouse
}

/**
 * The connection settings a service process cannot start without (unlike the CLI, it has no local
 * stack to fall back on): the broker list and the registry URL always, ClickHouse when asked for.
 * Adds a problem for each one missing or wrong; undefined if there was any.
 */
export function serviceConnections(
  env: Record<string, string | undefined>,
  needs: { clickhouse: true },
  problems: ConfigProblem[],
): (ServiceConnections & { clickhouse: ServiceClickHouse }) | undefined
export function serviceConnections(
  env: Record<string, string | undefined>,
  needs: { clickhouse: false },
  problems: ConfigProblem[],
): ServiceConnections | undefined
export function serviceConnections(
  env: Record<string, string | undefined>,
  needs: { clickhouse: boolean },
  problems: ConfigProblem[],
): ServiceConnections | undefined {
  const before = problems.length
  const connections = collectProblems(() => loadConnectionSettings(env), problems)
  if (!env['KAFKA_BROKERS']?.trim())
    problems.push({ setting: 'KAFKA_BROKERS', message: 'required: host:port,…' })
  if (!env['SCHEMA_REGISTRY_URL']?.trim()) {
    problems.push({
      setting: 'SCHEMA_REGISTRY_URL',
      message: 'required: the Confluent-compatible registry URL',
    })
  }
  if (needs.clickhouse && !env['CLICKHOUSE_URL']?.trim() && !env['CLICKHOUSE_EMBEDDED_PATH']?.trim()) {
    problems.push({
      setting: 'CLICKHOUSE_URL',
      message: 'required: a ClickHouse server URL, or CLICKHOUSE_EMBEDDED_PATH for embedded ClickHouse',
    })
  }
  if (!connections || problems.length > before) return undefined
  const { kafka, schemaRegistry, clickhouse } = connections
  return {
    kafka: { ...kafka, brokers: kafka.brokers ?? [] },
    schemaRegistry: schemaRegistry ?? { url: '' },
    ...(needs.clickhouse && {
      clickhouse:
        clickhouse.kind === 'http' ? clickhouse : { ...clickhouse, dataPath: clickhouse.dataPath ?? '' },
    }),
  }
}
