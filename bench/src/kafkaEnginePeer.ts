import type { Storage } from '@audit-pipeline/storage'

/** How ClickHouse's own Kafka consumer is set up: matched to the sink's batch settings. */
export type KafkaEngineSettings = {
  brokers: readonly string[]
  topic: string
  groupId: string
  /** The Confluent-compatible registry URL (Apicurio's ccompat API). */
  registryUrl: string
  /** kafka_num_consumers: librdkafka consumers, each on a thread of its own. */
  consumers: number
  /** kafka_max_block_size: rows per insert, as the sink's SINK_BATCH_MAX_ROWS. */
  maxBlockRows: number
  /** kafka_flush_interval_ms: a block is written at least this often, as the sink's SINK_BATCH_MAX_AGE_MS. */
  flushIntervalMs: number
}

/** `<database>.audit_events_kafka`, the table ClickHouse reads the topic through. */
export const kafkaEngineTable = 'audit_events_kafka'
const viewName = `${kafkaEngineTable}_mv`

const actor =
  'type String, id String, display_name Nullable(String), roles Array(String), ' +
  'ip Nullable(String), user_agent Nullable(String), session_id Nullable(String)'

/**
 * The Avro schema's fields as ClickHouse reads them with `AvroConfluent` (matched by name; a record
 * is a named Tuple, `union(null, T)` Nullable, an enum text). Kept by hand beside
 * schemas/audit-event.avsc, as someone using the engine would write it.
 */
const avroColumns = `
    event_id UUID,
    occurred_at DateTime64(3, 'UTC'),
    recorded_at DateTime64(3, 'UTC'),
    tenant String,
    source Tuple(service String, instance Nullable(String), version Nullable(String)),
    actor Tuple(${actor}),
    on_behalf_of Nullable(Tuple(${actor})),
    action Tuple(kind String, name String),
    category String,
    object Tuple(type String, id String, id2 Nullable(String), id3 Nullable(String), label Nullable(String)),
    changes Array(Tuple(path String, old_value Nullable(String), new_value Nullable(String), value_type String)),
    before Nullable(String),
    after Nullable(String),
    outcome Tuple(status String, reason Nullable(String)),
    severity String,
    correlation Tuple(trace_id Nullable(String), request_id Nullable(String)),
    attributes Map(String, String),
    sensitive_fields Array(String)`

/**
 * From the Avro fields to `audit_events`' columns, as the sink's eventRow maps an event: nested
 * records flattened to `<record>_<field>`, an absent on_behalf_of as nulls and no roles, and the
 * Kafka coordinates from the engine's virtual columns.
 */
const rowSelect = `
    event_id, occurred_at, recorded_at, tenant,
    source.service AS source_service, source.instance AS source_instance, source.version AS source_version,
    actor.type AS actor_type, actor.id AS actor_id, actor.display_name AS actor_display_name,
    actor.roles AS actor_roles, actor.ip AS actor_ip, actor.user_agent AS actor_user_agent,
    actor.session_id AS actor_session_id,
    on_behalf_of.type AS on_behalf_of_type, on_behalf_of.id AS on_behalf_of_id,
    on_behalf_of.display_name AS on_behalf_of_display_name, ifNull(on_behalf_of.roles, []) AS on_behalf_of_roles,
    on_behalf_of.ip AS on_behalf_of_ip, on_behalf_of.user_agent AS on_behalf_of_user_agent,
    on_behalf_of.session_id AS on_behalf_of_session_id,
    action.kind AS action_kind, action.name AS action_name, category,
    object.type AS object_type, object.id AS object_id, object.id2 AS object_id2, object.id3 AS object_id3,
    object.label AS object_label,
    changes, before, after,
    outcome.status AS outcome_status, outcome.reason AS outcome_reason, severity,
    correlation.trace_id AS correlation_trace_id, correlation.request_id AS correlation_request_id,
    attributes, sensitive_fields,
    _topic AS kafka_topic, _partition AS kafka_partition, _offset AS kafka_offset`

const quoted = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/** on_behalf_of is `union(null, Actor)`: a Nullable Tuple, which ClickHouse 26 allows only when asked. */
const nullableTuples = { enable_nullable_tuple_type: 1 } as const

/**
 * Starts ClickHouse's Kafka table engine reading `settings.topic` into `<database>.audit_events`
 * (made by the sink's migrations beforehand): a Kafka table with `kafka_format = 'AvroConfluent'`
 * and the registry, and a materialized view from it into the table. Consumption starts when the
 * view is created, in ClickHouse's background threads.
 */
export async function startKafkaEngine(
  storage: Storage,
  database: string,
  settings: KafkaEngineSettings,
): Promise<void> {
  await storage.client.command({
    query: `CREATE TABLE ${database}.${kafkaEngineTable} (${avroColumns}
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = ${quoted(settings.brokers.join(','))},
    kafka_topic_list = ${quoted(settings.topic)},
    kafka_group_name = ${quoted(settings.groupId)},
    kafka_format = 'AvroConfluent',
    format_avro_schema_registry_url = ${quoted(settings.registryUrl)},
    kafka_num_consumers = ${settings.consumers},
    kafka_thread_per_consumer = 1,
    kafka_max_block_size = ${settings.maxBlockRows},
    kafka_flush_interval_ms = ${settings.flushIntervalMs}`,
    clickhouse_settings: nullableTuples,
  })
  await storage.client.command({
    query: `CREATE MATERIALIZED VIEW ${database}.${viewName} TO ${database}.audit_events AS
SELECT ${rowSelect}
FROM ${database}.${kafkaEngineTable}`,
    clickhouse_settings: nullableTuples,
  })
}

/** Stops the engine's consumers: the view first, so nothing is read that has nowhere to go. */
export async function stopKafkaEngine(storage: Storage, database: string): Promise<void> {
  await storage.client.command({ query: `DROP TABLE IF EXISTS ${database}.${viewName} SYNC` })
  await storage.client.command({ query: `DROP TABLE IF EXISTS ${database}.${kafkaEngineTable} SYNC` })
}

/** The last error the engine's consumers met (system.kafka_consumers), for a run that stalls. */
export async function kafkaEngineError(storage: Storage, database: string): Promise<string | undefined> {
  const rows = await storage.client
    .query({
      query: `SELECT arrayStringConcat(exceptions.text, ' | ') AS errors, num_messages_read AS read
              FROM system.kafka_consumers
              WHERE database = {database:String} AND table = {table:String}`,
      query_params: { database, table: kafkaEngineTable },
      format: 'JSONEachRow',
    })
    .then((result) => result.json<{ errors: string; read: string }>())
  const errors = rows.map((row) => row.errors.split('\n', 1)[0] ?? '').filter((text) => text !== '')
  const read = rows.reduce((sum, row) => sum + Number(row.read), 0)
  return errors.length > 0 ? `${errors.join('; ')} (${read} messages read)` : undefined
}

/** Whether the engine's consumers have read any message yet (system.kafka_consumers). */
export async function kafkaEngineReading(storage: Storage, database: string): Promise<boolean> {
  const [row] = await storage.client
    .query({
      query: `SELECT sum(num_messages_read) AS read FROM system.kafka_consumers
              WHERE database = {database:String} AND table = {table:String}`,
      query_params: { database, table: kafkaEngineTable },
      format: 'JSONEachRow',
    })
    .then((result) => result.json<{ read: string }>())
  return Number(row?.read ?? 0) > 0
}

/** Where the Kafka engine comes from in this build: its version and whether librdkafka and Avro are in. */
export async function kafkaEngineBuild(
  storage: Storage,
): Promise<{ version: string; kafkaEngine: boolean; rdkafka: boolean; avro: boolean }> {
  const [row] = await storage.client
    .query({
      query: `SELECT version() AS version,
                     (SELECT count() FROM system.table_engines WHERE name = 'Kafka') AS kafka_engine,
                     (SELECT any(value) FROM system.build_options WHERE name = 'USE_RDKAFKA') AS rdkafka,
                     (SELECT any(value) FROM system.build_options WHERE name = 'USE_AVRO') AS avro`,
      format: 'JSONEachRow',
    })
    .then((result) =>
      result.json<{ version: string; kafka_engine: string | number; rdkafka: string; avro: string }>(),
    )
  return {
    version: row?.version ?? 'unknown',
    kafkaEngine: Number(row?.kafka_engine ?? 0) > 0,
    rdkafka: row?.rdkafka === '1',
    avro: row?.avro === '1',
  }
}
