import { AdapterConfigError } from './inputRejectedError.js'
import { isJsonObject, isText } from './jsonObject.js'

/** How rows of one table become audit events. Every field is optional. */
export type DebeziumTableConfig = {
  /** `object.type` of its rows, e.g. `ticket`. Default: the table name. */
  objectType?: string
  /** Columns whose values make `object.id`, `id2` and `id3`, in that order: 1 to 3 names. Default: `['id']`. */
  primaryKey?: readonly string[]
  /**
   * Column naming the user who wrote the row (e.g. `updated_by`): on creates and updates its value
   * becomes a `user` actor. Not on deletes, where the row still names its last writer, not whoever
   * deleted it. Default: none; the connector is the actor.
   */
  actorColumn?: string
  /** Column whose value becomes `object.label` (e.g. `title`). Default: none. */
  labelColumn?: string
  /** Column holding the tenant, for tables shared by tenants; a row without it is refused. Default: the adapter's tenant. */
  tenantColumn?: string
  /** Columns holding personal data: listed in `sensitive_fields` and compared whole. Default: none. */
  sensitiveColumns?: readonly string[]
}

export type DebeziumAdapterConfig = {
  /** Tenant of every event, unless a table names a tenant column. */
  tenant: string
  /** Category of every event. Default: `business`. */
  category?: string
  /**
   * Tables by `schema.table` (PostgreSQL, SQL Server, Oracle), `db.table` (MySQL, MongoDB) or bare
   * `table`, tried in that order. Tables not listed use the defaults.
   */
  tables?: Readonly<Record<string, DebeziumTableConfig>>
  /**
   * The connector's `unavailable.value.placeholder`: PostgreSQL leaves unchanged TOASTed values out of
   * update events and Debezium writes this text instead. Default: `__debezium_unavailable_value`.
   */
  unavailableValuePlaceholder?: string
}

export const defaultPrimaryKey = ['id'] as const
export const defaultUnavailableValuePlaceholder = '__debezium_unavailable_value'
/** object.id, id2, id3. */
const maxPrimaryKeyColumns = 3

/** Throws AdapterConfigError naming the first unusable setting; called once, when the adapter is created. */
export function checkDebeziumConfig(config: DebeziumAdapterConfig): void {
  if (!isText(config.tenant)) throw new AdapterConfigError('debezium.tenant', 'required: a non-empty string')
  if (config.category !== undefined && !isText(config.category)) {
    throw new AdapterConfigError('debezium.category', 'expected a non-empty string, e.g. business')
  }
  if (config.unavailableValuePlaceholder !== undefined && !isText(config.unavailableValuePlaceholder)) {
    throw new AdapterConfigError('debezium.unavailableValuePlaceholder', 'expected a non-empty string')
  }
  if (config.tables === undefined) return
  if (!isJsonObject(config.tables))
    throw new AdapterConfigError('debezium.tables', 'expected an object keyed by table')
  for (const [key, table] of Object.entries(config.tables)) {
    const setting = `debezium.tables[${JSON.stringify(key)}]`
    if (!isText(key)) throw new AdapterConfigError(setting, 'a table name must not be empty')
    for (const field of ['objectType', 'actorColumn', 'labelColumn', 'tenantColumn'] as const) {
      if (table[field] !== undefined && !isText(table[field])) {
        throw new AdapterConfigError(`${setting}.${field}`, 'expected a non-empty string')
      }
    }
    const { primaryKey, sensitiveColumns } = table
    if (
      primaryKey !== undefined &&
      (!Array.isArray(primaryKey) ||
        primaryKey.length < 1 ||
        primaryKey.length > maxPrimaryKeyColumns ||
        !primaryKey.every(isText) ||
        new Set(primaryKey).size !== primaryKey.length)
    ) {
      throw new AdapterConfigError(
        `${setting}.primaryKey`,
        `expected 1 to ${maxPrimaryKeyColumns} different column names (object.id, id2, id3)`,
      )
    }
    if (
      sensitiveColumns !== undefined &&
      !(Array.isArray(sensitiveColumns) && sensitiveColumns.every(isText))
    ) {
      throw new AdapterConfigError(`${setting}.sensitiveColumns`, 'expected a list of column names')
    }
  }
}

/** The table's configuration: by `schema.table`, `db.table`, then `table`; the defaults when none is listed. */
export function tableConfigFor(
  tables: DebeziumAdapterConfig['tables'],
  where: { db: string | undefined; schema: string | undefined; table: string },
): DebeziumTableConfig {
  if (tables === undefined) return {}
  const keys = [where.schema, where.db]
    .filter((qualifier): qualifier is string => qualifier !== undefined)
    .map((qualifier) => `${qualifier}.${where.table}`)
  // Object.hasOwn: a table named `constructor` must not find Object.prototype's.
  const key = [...keys, where.table].find((candidate) => Object.hasOwn(tables, candidate))
  return key === undefined ? {} : (tables[key] ?? {})
}
