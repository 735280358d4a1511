import { entryForm, eventForm } from '@audit-pipeline/integrity'

/**
 * The content digest of an `audit_events` row computed by ClickHouse itself: the RFC 8785 text of
 * the event's canonical form (packages/integrity/README.md) built in SQL and hashed with SHA256().
 * Reading every column of every row into JavaScript costs more than everything else `verify`
 * does; this way ClickHouse compares stored events with their entries and only what differs
 * leaves it.
 *
 * SQL writes strings with ClickHouse's JSON writer, which is RFC 8785's for valid UTF-8 (with
 * `asRfc8785`), and sorts attribute keys by their bytes, which is RFC 8785's order (UTF-16 code
 * units) for keys below U+E000. A row beyond that (bytes that are not UTF-8, such keys, a key
 * twice) gets a digest that is not its content digest, which no entry records: verify then reads
 * it whole and digests it in JavaScript (eventOfStoredRow, contentDigest), the reference. The reverse cannot happen: a row whose SQL text hashes to an
 * entry's digest has that entry's canonical text (SHA-256 is collision resistant), and the text
 * determines every covered column. A property test holds the two writers together on the events
 * the pipeline stores.
 */

type Expr = string

/**
 * A JSON string by ClickHouse's own JSON writer (toJSONString, with jsonSettings). It escapes `"`,
 * `\` and control characters as RFC 8785 does, except that it writes the `\u00XX` escapes with
 * upper-case hex digits and escapes U+2028 and U+2029 (for JavaScript's old parsers), which RFC
 * 8785 writes as they are: `asRfc8785` undoes both on the whole text after.
 */
const quoted = (value: Expr): Expr => `toJSONString(${value})`

/**
 * The text with RFC 8785's lower-case `\u00xx` escapes (the short ones, `\n` and the like, are
 * alike) and U+2028 and U+2029 unescaped. Escaped backslashes (`\\`) are set aside first, as NUL
 * (which JSON text never holds as it is), so that a string holding such an escape as text, say
 * `\u001A`, written `\\u001A`, is left as it is.
 */
const asRfc8785 = (text: Expr): Expr => {
  const replace = (inner: Expr, [from, to]: readonly [Expr, Expr]) => `replaceAll(${inner}, ${from}, ${to})`
  const backslashes = `'\\\\\\\\'`
  const escapes = [
    ...['0B', '0E', '0F', '1A', '1B', '1C', '1D', '1E', '1F'].map(
      (hex) => [`'\\\\u00${hex}'`, `'\\\\u00${hex.toLowerCase()}'`] as const,
    ),
    [`'\\\\u2028'`, "unhex('E280A8')"] as const,
    [`'\\\\u2029'`, "unhex('E280A9')"] as const,
  ]
  const setAside = replace(text, [backslashes, 'char(0)'])
  // Most text holds no `\u` escape at all, and is left as it is without a pass.
  return `if(position(${text}, '\\\\u') = 0, ${text}, ${replace(escapes.reduce(replace, setAside), ['char(0)', backslashes])})`
}

/** What toJSONString must be told for `quoted`: ClickHouse escapes `/` by default, RFC 8785 never. */
export const jsonSettings = ['output_format_json_escape_forward_slashes = 0'] as const

const nullable = (value: Expr): Expr => `ifNull(${quoted(value)}, 'null')`
const stringArray = (value: Expr): Expr =>
  `concat('[', arrayStringConcat(arrayMap(x -> ${quoted('x')}, ${value}), ','), ']')`

/** An object with its keys in RFC 8785 order (every key here is ASCII, so sorting them is enough). */
function object(fields: Record<string, Expr>): Expr {
  const parts = Object.keys(fields)
    .sort()
    .map((key, n) => `'${n === 0 ? '{' : ','}"${key}":', ${fields[key]}`)
  return `concat(${parts.join(', ')}, '}')`
}

const actor = (prefix: 'actor' | 'on_behalf_of'): Expr =>
  object({
    type: quoted(`${prefix}_type`),
    id: quoted(`${prefix}_id`),
    display_name: nullable(`${prefix}_display_name`),
    roles: stringArray(`${prefix}_roles`),
    ip: nullable(`${prefix}_ip`),
    user_agent: nullable(`${prefix}_user_agent`),
    session_id: nullable(`${prefix}_session_id`),
  })

const change = object({
  path: quoted("tupleElement(c, 'path')"),
  old_value: nullable("tupleElement(c, 'old_value')"),
  new_value: nullable("tupleElement(c, 'new_value')"),
  value_type: quoted("tupleElement(c, 'value_type')"),
})

/** The canonical text of the row's event: canonicalEventJson's, for the rows the module comment names. */
export const canonicalEventTextSql: Expr = asRfc8785(
  object({
    form: `'"${eventForm}"'`,
    event_id: quoted('toString(event_id)'),
    occurred_at: 'toString(toUnixTimestamp64Milli(occurred_at))',
    tenant: quoted('tenant'),
    source: object({
      service: quoted('source_service'),
      instance: nullable('source_instance'),
      version: nullable('source_version'),
    }),
    actor: actor('actor'),
    // eventRow writes an absent on_behalf_of as nulls; eventOfStoredRow reads a null type or id so.
    on_behalf_of: `if(on_behalf_of_type IS NULL OR on_behalf_of_id IS NULL, 'null', ${actor('on_behalf_of')})`,
    action: object({ kind: quoted('action_kind'), name: quoted('action_name') }),
    category: quoted('category'),
    object: object({
      type: quoted('object_type'),
      id: quoted('object_id'),
      id2: nullable('object_id2'),
      id3: nullable('object_id3'),
      label: nullable('object_label'),
    }),
    changes: `concat('[', arrayStringConcat(arrayMap(c -> ${change}, changes), ','), ']')`,
    before: nullable('before'),
    after: nullable('after'),
    outcome: object({ status: quoted('outcome_status'), reason: nullable('outcome_reason') }),
    severity: quoted('severity'),
    correlation: object({
      trace_id: nullable('correlation_trace_id'),
      request_id: nullable('correlation_request_id'),
    }),
    attributes: `concat('{', arrayStringConcat(arrayMap(kv -> concat(${quoted('kv.1')}, ':', ${quoted(
      'kv.2',
    )}), arraySort(arrayZip(mapKeys(attributes), mapValues(attributes)))), ','), '}')`,
    sensitive_fields: stringArray('sensitive_fields'),
  }),
)

/** The alias the canonical text goes by in a statement (WITH … AS). */
export const canonicalTextAlias = 'canonical_event_text'

/** The lowercase hex SHA-256 of the canonical text under `canonicalTextAlias`. */
export const contentDigestSql: Expr = `lower(hex(SHA256(${canonicalTextAlias})))`

/**
 * 1 when an `audit_chain` row's entry_hash is the hash of its own fields (entryHash: SHA-256 of
 * 0x00 and the RFC 8785 text of the entry), computed by ClickHouse; 0 when not, or when SQL does
 * not write the entry's text exactly (as for events, above), and verify then hashes it in
 * JavaScript. 1 is as good as JavaScript's check: the text determines every field.
 */
export const entryHashCheckedSql: Expr = `lower(hex(SHA256(concat(char(0), ${asRfc8785(
  object({
    form: `'"${entryForm}"'`,
    tenant: quoted('tenant'),
    chain: quoted('chain'),
    seq: 'toString(seq)',
    event_id: quoted('toString(event_id)'),
    content_digest: quoted('content_digest'),
    occurred_at: 'toString(toUnixTimestamp64Milli(occurred_at))',
    category: quoted('category'),
    prev_hash: quoted('prev_hash'),
  }),
)})))) = entry_hash`
