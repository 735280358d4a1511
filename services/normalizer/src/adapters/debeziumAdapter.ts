import {
  diffValues,
  formatPath,
  snapshotJsonText,
  type ActionKind,
  type Actor,
  type FieldChange,
} from '@audit-pipeline/event-model'
import type { EventDraft } from '../normalize/eventDraft.js'
import {
  checkDebeziumConfig,
  defaultPrimaryKey,
  defaultUnavailableValuePlaceholder,
  tableConfigFor,
  type DebeziumAdapterConfig,
  type DebeziumTableConfig,
} from './debeziumConfig.js'
import { eventIdNamespaces, uuidV5 } from './deterministicEventId.js'
import {
  rejected,
  type AdapterInput,
  type AdapterOutcome,
  type InputAdapter,
  type SkipReason,
} from './inputAdapter.js'
import { InputRejectedError, rejectionsOf } from './inputRejectedError.js'
import { describeJson, isJsonObject, isText, type JsonObject } from './jsonObject.js'

/**
 * What each Debezium `op` becomes. A snapshot read (`r`) is skipped, not recorded as a `read`: in
 * an audit event `read` means an actor looked at the record, and a connector copying a table at
 * start-up would otherwise add one such event per existing row, by nobody. A truncate empties the
 * whole table, which an audit trail must not lose: it becomes one `operation` event on the table.
 */
export const debeziumOperations = {
  c: { kind: 'create', verb: 'create' },
  u: { kind: 'update', verb: 'update' },
  d: { kind: 'delete', verb: 'delete' },
  t: { kind: 'operation', verb: 'truncate' },
  r: { skip: 'SNAPSHOT_READ' },
  m: { skip: 'LOGICAL_MESSAGE' },
} as const satisfies Record<string, { kind: ActionKind; verb: string } | { skip: SkipReason }>

/**
 * Fields of the `source` block that locate a change in the database's log, per connector:
 * PostgreSQL `lsn` (and `sequence`, `txId`), MySQL `file`, `pos`, `row` (and `gtid`), SQL Server
 * `change_lsn`, `commit_lsn`, `event_serial_no`, Oracle `scn`, `commit_scn`, `rs_id`, `ssn`,
 * MongoDB `ord`. Those present make the event id, so the same change read twice has the same id.
 * `ts_ms` is left out on purpose: the envelope's is when the connector processed the change, which
 * differs between two reads of it.
 */
export const sourcePositionFields = [
  'lsn',
  'sequence',
  'txId',
  'file',
  'pos',
  'row',
  'gtid',
  'change_lsn',
  'commit_lsn',
  'event_serial_no',
  'scn',
  'commit_scn',
  'rs_id',
  'ssn',
  'ord',
] as const

const adapterName = 'debezium'
const invalid = rejectionsOf(adapterName)

/**
 * Debezium change events as Kafka Connect's JSON converter writes them, with the schema wrapper
 * (`{"schema": …, "payload": {…}}`) or without it, turned into create, update and delete events:
 *
 * | audit event | from |
 * | --- | --- |
 * | `event_id` | UUID v5 of connector, name, db, schema, table, op, the source position (sourcePositionFields) and the primary key |
 * | `occurred_at` | `source.ts_ms`: when the change was committed in the database |
 * | `tenant` | the adapter's `tenant`, or the table's `tenantColumn` |
 * | `source` | `service`: `source.name` (the connector's topic prefix), `version`: `source.version` (Debezium's) |
 * | `actor` | the table's `actorColumn` as a `user` on creates and updates, else `{type: 'system', id: source.name}` |
 * | `action` | debeziumOperations; name `<object type>.<verb>`, e.g. `ticket.update` |
 * | `category` | the adapter's `category`, default `business` |
 * | `object` | type: the table's `objectType` or the table name; id, id2, id3: the `primaryKey` columns' values (default `id`); label: the `labelColumn` |
 * | `changes` | diffValues(before, after), the sensitive columns and the tenant's sensitive paths compared whole; none for an update without a before image |
 * | `before`, `after` | snapshotJsonText of the row images |
 * | `sensitive_fields` | the table's `sensitiveColumns` (compared whole in the diff) |
 * | `attributes` | `debezium.connector`, `debezium.table`, `debezium.position`, `debezium.transaction_id` when the connector provides transaction metadata |
 *
 * Not events, skipped and counted (SkipReason): tombstones (null values, handled before any
 * adapter), transaction markers (`status` BEGIN/END, from `provide.transaction.metadata`),
 * heartbeats, snapshot reads and logical decoding messages. A heartbeat (`{"ts_ms": …}` alone) is
 * too little to recognize by shape: it is skipped only on messages declared as `debezium`.
 *
 * Row images are only as complete as the database sends them. PostgreSQL sends a before image for
 * updates and deletes only with `REPLICA IDENTITY FULL` (else updates carry no before and thus no
 * changes); unchanged TOASTed values arrive as the placeholder text, which is replaced by the
 * before value when there is one and otherwise left out of both images. Values are kept as the
 * converter wrote them: set `decimal.handling.mode=string` and `time.precision.mode=connect` or
 * `adaptive_time_microseconds` for readable numbers and times, and keep integers within 2^53.
 */
export function createDebeziumAdapter(config: DebeziumAdapterConfig): InputAdapter {
  checkDebeziumConfig(config)
  const settings: Settings = {
    tenant: config.tenant.trim(),
    category: config.category ?? 'business',
    tables: config.tables,
    placeholder: config.unavailableValuePlaceholder ?? defaultUnavailableValuePlaceholder,
  }
  return {
    name: adapterName,
    shape: 'an object with op and source, or with payload.op and payload.source',
    declaredBy: () => false,
    recognizes(body) {
      if (!isJsonObject(body)) return false
      const payload = body['payload']
      return (
        isChangeEvent(body) ||
        isTransactionMarker(body) ||
        (isJsonObject(payload) && (isChangeEvent(payload) || isTransactionMarker(payload)))
      )
    },
    toEvents: ({ body, sensitiveFieldsOf }) => changeEventOutcome(body, settings, sensitiveFieldsOf),
  }
}

type Settings = {
  tenant: string
  category: string
  tables: DebeziumAdapterConfig['tables']
  placeholder: string
}

function isChangeEvent(value: JsonObject): boolean {
  return typeof value['op'] === 'string' && isJsonObject(value['source'])
}

function isTransactionMarker(value: JsonObject): boolean {
  return (value['status'] === 'BEGIN' || value['status'] === 'END') && typeof value['id'] === 'string'
}

type SensitiveFieldsOf = AdapterInput['sensitiveFieldsOf']

function changeEventOutcome(
  body: unknown,
  settings: Settings,
  sensitiveFieldsOf: SensitiveFieldsOf,
): AdapterOutcome {
  if (!isJsonObject(body)) {
    return rejected(
      invalid('ENVELOPE_INVALID', '(value)', `expected a change event object, got ${describeJson(body)}`),
    )
  }
  // The JSON converter with schemas.enable wraps the event as {schema, payload}.
  const wrapped = body['op'] === undefined && isJsonObject(body['payload'])
  const payload = wrapped ? (body['payload'] as JsonObject) : body
  const prefix = wrapped ? 'payload.' : ''

  const op = payload['op']
  if (op === undefined) {
    if (isTransactionMarker(payload)) return { status: 'skipped', reason: 'TRANSACTION_MARKER' }
    const keys = Object.keys(payload)
    if (keys.length === 1 && keys[0] === 'ts_ms') return { status: 'skipped', reason: 'HEARTBEAT' }
    return rejected(invalid('ENVELOPE_INVALID', `${prefix}op`, 'required: c, u, d, r, t or m'))
  }
  if (typeof op !== 'string' || !Object.hasOwn(debeziumOperations, op)) {
    return rejected(
      invalid(
        'UNSUPPORTED_OPERATION',
        `${prefix}op`,
        `expected one of: ${Object.keys(debeziumOperations).join(', ')}; got ${typeof op === 'string' ? `'${op}'` : describeJson(op)}`,
      ),
    )
  }
  const operation = debeziumOperations[op as keyof typeof debeziumOperations]
  if ('skip' in operation) return { status: 'skipped', reason: operation.skip }
  const draft = changeDraft(payload, prefix, op, operation, settings, sensitiveFieldsOf)
  return draft instanceof InputRejectedError ? rejected(draft) : { status: 'events', drafts: [draft] }
}

type Source = {
  connector: string
  name: string
  version: string | null
  db: string | undefined
  schema: string | undefined
  table: string
  tsMs: number
  position: Record<string, unknown>
}

function readSource(payload: JsonObject, prefix: string): Source | InputRejectedError {
  const source = payload['source']
  if (!isJsonObject(source)) {
    return invalid('ENVELOPE_INVALID', `${prefix}source`, `expected an object, got ${describeJson(source)}`)
  }
  for (const field of ['connector', 'name', 'table'] as const) {
    if (!isText(source[field])) {
      return invalid(
        'ENVELOPE_INVALID',
        `${prefix}source.${field}`,
        typeof source[field] === 'string'
          ? 'must not be empty'
          : `expected a non-empty string, got ${describeJson(source[field])}`,
      )
    }
  }
  const tsMs = source['ts_ms']
  if (typeof tsMs !== 'number' || !Number.isSafeInteger(tsMs) || tsMs < 0) {
    return invalid(
      'ENVELOPE_INVALID',
      `${prefix}source.ts_ms`,
      `expected the commit time in epoch milliseconds, got ${describeJson(tsMs)}`,
    )
  }
  const position: Record<string, unknown> = {}
  for (const field of sourcePositionFields) {
    const value = source[field]
    if (value !== undefined && value !== null) position[field] = value
  }
  if (Object.keys(position).length === 0) {
    return invalid(
      'SOURCE_POSITION_MISSING',
      `${prefix}source`,
      `has none of ${sourcePositionFields.join(', ')}, so no stable event id can be derived`,
    )
  }
  const text = (value: unknown) => (isText(value) ? value : undefined)
  return {
    connector: source['connector'] as string,
    name: source['name'] as string,
    version: text(source['version']) ?? null,
    db: text(source['db']),
    schema: text(source['schema']),
    table: source['table'] as string,
    tsMs,
    position,
  }
}

type Row = Record<string, unknown>

function changeDraft(
  payload: JsonObject,
  prefix: string,
  op: string,
  operation: { kind: ActionKind; verb: string },
  settings: Settings,
  sensitiveFieldsOf: SensitiveFieldsOf,
): EventDraft | InputRejectedError {
  const source = readSource(payload, prefix)
  if (source instanceof InputRejectedError) return source
  const images = rowImages(payload, prefix, op, settings.placeholder)
  if (images instanceof InputRejectedError) return images
  const { before, after } = images
  const table = tableConfigFor(settings.tables, source)
  const objectType = table.objectType ?? source.table
  const qualifiedTable = [source.db, source.schema, source.table]
    .filter((part) => part !== undefined)
    .join('.')

  let object: EventDraft['object']
  let tenant = settings.tenant
  if (operation.kind === 'operation') {
    // A truncate has no row: the table is the object.
    object = { type: 'table', id: qualifiedTable, id2: null, id3: null, label: null }
  } else {
    const side = op === 'd' ? 'before' : 'after'
    const row = (side === 'before' ? before : after) ?? {}
    const ids = primaryKeyOf(row, table, `${prefix}${side}`)
    if (ids instanceof InputRejectedError) return ids
    if (table.tenantColumn !== undefined) {
      const value = row[table.tenantColumn]
      if (!isText(value)) {
        return invalid(
          'ROW_COLUMN_MISSING',
          `${prefix}${side}.${table.tenantColumn}`,
          'the tenant column is missing or empty',
        )
      }
      tenant = value
    }
    const label = table.labelColumn === undefined ? undefined : row[table.labelColumn]
    object = {
      type: objectType,
      id: ids[0]!,
      id2: ids[1] ?? null,
      id3: ids[2] ?? null,
      label: isText(label) ? label : null,
    }
  }

  const sensitiveFields = (table.sensitiveColumns ?? []).map((column) => formatPath([column]))
  // The tenant's sensitive paths are compared whole too: redaction replaces values, not paths.
  // (Trimmed as normalization will trim the tenant.)
  const tenantFields = sensitiveFieldsOf?.(tenant.trim()) ?? []
  const changes = changesOf(op, before, after, [...sensitiveFields, ...tenantFields])

  const identity = {
    connector: source.connector,
    name: source.name,
    db: source.db ?? null,
    schema: source.schema ?? null,
    table: source.table,
    op,
    position: source.position,
    key: [object.id, object.id2, object.id3],
  }
  const attributes: Record<string, string> = {
    'debezium.connector': source.connector,
    'debezium.table': qualifiedTable,
    'debezium.position': snapshotJsonText(source.position),
  }
  const transaction = payload['transaction']
  if (isJsonObject(transaction) && isText(transaction['id'])) {
    attributes['debezium.transaction_id'] = transaction['id']
  }

  return {
    event_id: uuidV5(eventIdNamespaces.debezium, snapshotJsonText(identity)),
    occurred_at: source.tsMs,
    tenant,
    source: { service: source.name, instance: null, version: source.version },
    actor: actorOf(op === 'd' ? null : after, table, source),
    on_behalf_of: null,
    action: { kind: operation.kind, name: `${objectType}.${operation.verb}` },
    category: settings.category,
    object,
    changes,
    before: before === null ? null : snapshotJsonText(before),
    after: after === null ? null : snapshotJsonText(after),
    outcome: { status: 'success', reason: null },
    severity: 'info',
    correlation: { trace_id: null, request_id: null },
    attributes,
    sensitive_fields: sensitiveFields,
  }
}

/** The row images the op needs (after for c and u, before for d), without unavailable placeholders. */
function rowImages(
  payload: JsonObject,
  prefix: string,
  op: string,
  placeholder: string,
): { before: Row | null; after: Row | null } | InputRejectedError {
  const images: { before: Row | null; after: Row | null } = { before: null, after: null }
  for (const side of ['before', 'after'] as const) {
    const image = payload[side]
    if (image === undefined || image === null) continue
    if (!isJsonObject(image)) {
      return invalid(
        'ENVELOPE_INVALID',
        `${prefix}${side}`,
        `expected a row object or null, got ${describeJson(image)}`,
      )
    }
    images[side] = { ...image }
  }
  const needed = op === 'd' ? 'before' : op === 't' ? null : 'after'
  if (needed !== null && images[needed] === null) {
    return invalid('ENVELOPE_INVALID', `${prefix}${needed}`, `required for op '${op}': the row image`)
  }
  withoutUnavailableValues(images, placeholder)
  return images
}

/**
 * PostgreSQL does not send unchanged TOASTed values; Debezium puts the placeholder in their place.
 * The value is unchanged by definition, so `after` takes the before value when there is one; when
 * there is not, the column is left out of both images rather than recorded as changed to the
 * placeholder text.
 */
function withoutUnavailableValues(
  images: { before: Row | null; after: Row | null },
  placeholder: string,
): void {
  const { before, after } = images
  for (const column of new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])) {
    const old = before?.[column]
    const current = after?.[column]
    if (old !== placeholder && current !== placeholder) continue
    if (after && before && current === placeholder && old !== undefined && old !== placeholder) {
      after[column] = old
    } else {
      if (before) delete before[column]
      if (after) delete after[column]
    }
  }
}

function primaryKeyOf(row: Row, table: DebeziumTableConfig, rowField: string): string[] | InputRejectedError {
  const ids: string[] = []
  for (const column of table.primaryKey ?? defaultPrimaryKey) {
    const value = row[column]
    if (isText(value) || (typeof value === 'number' && Number.isFinite(value))) {
      ids.push(String(value).trim())
    } else {
      return invalid(
        'ROW_COLUMN_MISSING',
        `${rowField}.${column}`,
        `primary key column is ${value === undefined ? 'missing' : `${describeJson(value)}`}; configure the table's primaryKey if its key has other columns`,
      )
    }
  }
  return ids
}

function actorOf(row: Row | null, table: DebeziumTableConfig, source: Source): Actor {
  const named = table.actorColumn === undefined || row === null ? undefined : row[table.actorColumn]
  const user =
    isText(named) || (typeof named === 'number' && Number.isFinite(named)) ? String(named).trim() : undefined
  return {
    type: user === undefined ? 'system' : 'user',
    id: user ?? source.name,
    display_name: null,
    roles: [],
    ip: null,
    user_agent: null,
    session_id: null,
  }
}

function changesOf(
  op: string,
  before: Row | null,
  after: Row | null,
  sensitiveFields: readonly string[],
): FieldChange[] {
  // Without a before image (PostgreSQL's default replica identity) an update's changes are unknown:
  // diffing against nothing would list every column as added. Parsed JSON holds nothing diffValues
  // refuses, formatPath writes valid paths and the redaction policy's were checked when it was
  // read, so it cannot throw here.
  if (op === 't' || (op === 'u' && before === null)) return []
  return diffValues(before ?? undefined, after ?? undefined, { wholeAt: sensitiveFields })
}
