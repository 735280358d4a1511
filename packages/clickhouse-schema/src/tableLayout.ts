import { quoteName, quoteText } from './sqlText.js'

export const mergeTreeEngines = ['MergeTree', 'ReplacingMergeTree', 'SummingMergeTree'] as const
export type MergeTreeEngine = (typeof mergeTreeEngines)[number]

/**
 * Where tables go and how they are made, on one server or on a cluster. On a cluster every
 * statement runs `ON CLUSTER`, rows live in `<name>_local` Replicated* tables on each shard, and
 * `<name>` is a Distributed table over them, so queries and the sink's inserts use the same names
 * everywhere.
 */
export type TableLayout = {
  /** The quoted database name. */
  readonly database: string
  /** ` ON CLUSTER 'name'`, or nothing on one server. */
  readonly onCluster: string
  /** The table holding `name`'s rows: `name`, or `name_local` on a cluster. */
  storedName(name: string): string
  /** The qualified table holding the rows: `db`.`name`, or `db`.`name_local` on a cluster. */
  stored(name: string): string
  /** The qualified table queries and inserts use: `db`.`name`. */
  queried(name: string): string
  /**
   * The ENGINE clause of `table` (the name it is created with), with the engine's `parameters`
   * (a ReplacingMergeTree's version column). On a cluster: Replicated, one replica set per
   * shard, at the conventional `/clickhouse/tables/{shard}/<db>/<table>` path.
   */
  engine(engine: MergeTreeEngine, table: string, parameters?: readonly string[]): string
  /**
   * Table settings that make inserts retried with the same `insert_deduplication_token` land
   * once. Replicated tables deduplicate by default (`replicated_deduplication_window`); plain
   * MergeTree keeps no insert hashes unless `non_replicated_deduplication_window` is set.
   */
  readonly deduplicationSettings: readonly string[]
  /** The Distributed table over `name`'s local tables, or nothing on one server. */
  distributed(name: string, columns: string, shardingKey?: string): string[]
}

export function tableLayout(options: { database: string; cluster?: string | undefined }): TableLayout {
  const database = quoteName(options.database, 'database name')
  const qualified = (name: string) => `${database}.${quoteName(name, 'table name')}`
  const { cluster } = options
  if (cluster === undefined) {
    return {
      database,
      onCluster: '',
      storedName: (name) => name,
      stored: qualified,
      queried: qualified,
      engine: (engine, _table, parameters = []) =>
        parameters.length === 0 ? engine : `${engine}(${parameters.join(', ')})`,
      deduplicationSettings: ['non_replicated_deduplication_window = 1000'],
      distributed: () => [],
    }
  }
  if (cluster.trim() === '') throw new RangeError('invalid cluster name: empty')
  const onCluster = ` ON CLUSTER ${quoteText(cluster)}`
  const localName = (name: string) => `${name}_local`
  return {
    database,
    onCluster,
    storedName: localName,
    stored: (name) => qualified(localName(name)),
    queried: qualified,
    engine: (engine, table, parameters = []) =>
      `Replicated${engine}(${[quoteText(`/clickhouse/tables/{shard}/${options.database}/${table}`), "'{replica}'", ...parameters].join(', ')})`,
    deduplicationSettings: [],
    distributed: (name, columns, shardingKey) => [
      `CREATE TABLE IF NOT EXISTS ${qualified(name)}${onCluster}\n(\n${columns}\n)\n` +
        `ENGINE = Distributed(${[quoteText(cluster), quoteText(options.database), quoteText(localName(name)), ...(shardingKey ? [shardingKey] : [])].join(', ')})`,
    ],
  }
}
