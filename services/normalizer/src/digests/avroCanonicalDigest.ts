import { hash } from 'node:crypto'
import { eventForm } from '@audit-pipeline/integrity'

/**
 * The content digest of an audit event written straight from its Avro body: the canonical form's
 * UTF-8 bytes (packages/integrity, canonicalEventJson) are produced from the body's own bytes,
 * with no event object and no JavaScript strings in between, which is most of what a digest costs
 * when it starts from an object decoded for the purpose.
 *
 * It reads exactly one schema, the one `directSchemaFingerprint` names. It answers undefined for
 * an event it cannot write byte for byte as canonicalEventJson would from avsc's reading — text
 * that is not valid UTF-8 (avsc reads it with replacement characters), a long of 2^48 or more,
 * repeated or `__proto__` attribute keys, anything malformed — and the caller reads that event
 * with avsc instead. A property test holds the two to the same digest.
 */
export function avroCanonicalDigest(body: Uint8Array): string | undefined {
  input = body
  pos = 0
  limit = body.length
  try {
    readEvent()
    if (pos !== limit) return undefined
    // The most a body byte becomes is under 16 (an array item's field names, a control character's
    // \u00xx), plus the fixed fields' names.
    reserve(16 * limit + 1024)
    o = 0
    writeEvent()
    return hash('sha256', out.subarray(0, o), 'hex')
  } catch (error) {
    if (error === notDirect) return undefined
    throw error
  } finally {
    out = kept
  }
}

/**
 * SHA-256 of the Parsing Canonical Form of the Avro schema this reader reads (avsc's
 * `type.fingerprint('sha256')`): any other schema is read with avsc.
 */
export const directSchemaFingerprint = '91c4a31b770a582f759177c584bfbf6fd39635c1b830b1a841b0eb4c5e1d453a'

/** Thrown inside, never out: the event is one for avsc. */
const notDirect = new Error('not read directly')

// ---- Reading: every string is kept as its byte span, start at 2k and end at 2k + 1. ----

let input: Uint8Array = new Uint8Array(0)
let pos = 0
let limit = 0

/** The event's single-valued strings, in the order of these names; null is a start of -1. */
const EVENT_ID = 0
const TENANT = 1
const SERVICE = 2
const INSTANCE = 3
const VERSION = 4
const ACTION_NAME = 5
const CATEGORY = 6
const OBJECT_TYPE = 7
const OBJECT_ID = 8
const ID2 = 9
const ID3 = 10
const LABEL = 11
const BEFORE = 12
const AFTER = 13
const REASON = 14
const TRACE_ID = 15
const REQUEST_ID = 16
/** An actor's strings from its base: the actor's at ACTOR, on_behalf_of's at ON_BEHALF_OF. */
const ID = 0
const DISPLAY_NAME = 1
const IP = 2
const USER_AGENT = 3
const SESSION_ID = 4
const ACTOR = 17
const ON_BEHALF_OF = 22
const spans = new Int32Array(2 * 27)

let actorType = 0
let onBehalfOfType = -1
let actionKind = 0
let outcomeStatus = 0
let severity = 0

/** The repeated parts: spans in reading order, and how many of each. */
const actorRoles: number[] = []
const onBehalfOfRoles: number[] = []
const changes: number[] = []
const sensitiveFields: number[] = []
const attributes: number[] = []

const actorTypes = symbols('user', 'service', 'system')
const actionKinds = symbols('create', 'update', 'delete', 'read', 'operation')
const outcomeStatuses = symbols('success', 'failure', 'denied')
const severities = symbols('debug', 'info', 'notice', 'warning', 'error', 'critical')

/** Fields in the schema's order (recorded_at is read and left out of the form). */
function readEvent(): void {
  readText(EVENT_ID)
  occurredAt = readLong()
  readLong()
  readText(TENANT)
  readText(SERVICE)
  readNullableText(INSTANCE)
  readNullableText(VERSION)
  actorType = readActor(ACTOR, actorRoles)
  onBehalfOfType = readUnionBranch() === 0 ? -1 : readActor(ON_BEHALF_OF, onBehalfOfRoles)
  actionKind = readEnum(actionKinds.length)
  readText(ACTION_NAME)
  readText(CATEGORY)
  readText(OBJECT_TYPE)
  readText(OBJECT_ID)
  readNullableText(ID2)
  readNullableText(ID3)
  readNullableText(LABEL)
  readChanges()
  readNullableText(BEFORE)
  readNullableText(AFTER)
  outcomeStatus = readEnum(outcomeStatuses.length)
  readNullableText(REASON)
  severity = readEnum(severities.length)
  readNullableText(TRACE_ID)
  readNullableText(REQUEST_ID)
  readAttributes()
  readTextArray(sensitiveFields)
}

let occurredAt = 0

function readActor(base: number, roles: number[]): number {
  const type = readEnum(actorTypes.length)
  readText(base + ID)
  readNullableText(base + DISPLAY_NAME)
  readTextArray(roles)
  readNullableText(base + IP)
  readNullableText(base + USER_AGENT)
  readNullableText(base + SESSION_ID)
  return type
}

function readChanges(): void {
  changes.length = 0
  for (let count = readBlockCount(); count > 0; count = readBlockCount()) {
    for (let i = 0; i < count; i++) {
      // path, old_value, new_value, value_type
      pushText(changes)
      pushNullableText(changes)
      pushNullableText(changes)
      pushText(changes)
    }
  }
}

function readAttributes(): void {
  attributes.length = 0
  for (let count = readBlockCount(); count > 0; count = readBlockCount()) {
    for (let i = 0; i < count; i++) {
      pushText(attributes)
      pushText(attributes)
    }
  }
}

function readTextArray(into: number[]): void {
  into.length = 0
  for (let count = readBlockCount(); count > 0; count = readBlockCount()) {
    for (let i = 0; i < count; i++) pushText(into)
  }
}

/** An array or map block's item count; a negative count is followed by the block's size. */
function readBlockCount(): number {
  const count = readLong()
  if (count >= 0) return count
  readLong()
  return -count
}

function readText(slot: number): void {
  const length = readLong()
  if (length < 0 || pos + length > limit) throw notDirect
  spans[2 * slot] = pos
  spans[2 * slot + 1] = pos += length
}

function readNullableText(slot: number): void {
  if (readUnionBranch() === 0) spans[2 * slot] = -1
  else readText(slot)
}

function pushText(into: number[]): void {
  const length = readLong()
  if (length < 0 || pos + length > limit) throw notDirect
  into.push(pos, (pos += length))
}

function pushNullableText(into: number[]): void {
  if (readUnionBranch() === 0) into.push(-1, -1)
  else pushText(into)
}

function readUnionBranch(): number {
  const branch = readLong()
  if (branch !== 0 && branch !== 1) throw notDirect
  return branch
}

function readEnum(symbolCount: number): number {
  const index = readLong()
  if (index < 0 || index >= symbolCount) throw notDirect
  return index
}

/** A zig-zag varint of at most seven bytes (|n| < 2^48): exact as a double, as avsc reads it. */
function readLong(): number {
  let n = 0
  let scale = 1
  for (let bytes = 0; bytes < 7; bytes++) {
    if (pos >= limit) throw notDirect
    const byte = input[pos++] as number
    n += (byte & 0x7f) * scale
    if (byte < 0x80) return n % 2 === 0 ? n / 2 : -(n + 1) / 2
    scale *= 128
  }
  throw notDirect
}

// ---- Writing canonicalEventJson's bytes: the same fields in the same sorted order. ----

/** The output buffer kept between events, grown up to keptBytes. */
let kept = Buffer.allocUnsafe(1 << 16)
const keptBytes = 1 << 20
let out = kept
let o = 0

/** An output buffer of at least `bytes`: one of this event's own when it may need more than keptBytes, so one huge event does not hold tens of megabytes for good. */
function reserve(bytes: number): void {
  if (bytes > keptBytes) out = Buffer.allocUnsafe(bytes)
  else if (bytes > kept.length)
    out = kept = Buffer.allocUnsafe(Math.min(keptBytes, Math.max(bytes, 2 * kept.length)))
}

function writeEvent(): void {
  put(ACTION_KIND_)
  put(actionKinds[actionKind] as Uint8Array)
  put(_NAME_)
  writeText(ACTION_NAME)
  put(_ACTOR_)
  writeActor(ACTOR, actorType, actorRoles)
  put(_AFTER_)
  writeText(AFTER)
  put(_ATTRIBUTES_)
  writeAttributes()
  put(_BEFORE_)
  writeText(BEFORE)
  put(_CATEGORY_)
  writeText(CATEGORY)
  put(_CHANGES_)
  writeChanges()
  put(_CORRELATION_REQUEST_ID_)
  writeText(REQUEST_ID)
  put(_TRACE_ID_)
  writeText(TRACE_ID)
  put(_EVENT_ID_)
  writeText(EVENT_ID)
  put(_FORM_OBJECT_ID_)
  writeText(OBJECT_ID)
  put(_ID2_)
  writeText(ID2)
  put(_ID3_)
  writeText(ID3)
  put(_LABEL_)
  writeText(LABEL)
  put(_TYPE_)
  writeText(OBJECT_TYPE)
  put(_OCCURRED_AT_)
  putAscii(String(occurredAt))
  put(_ON_BEHALF_OF_)
  if (onBehalfOfType < 0) put(NULL)
  else writeActor(ON_BEHALF_OF, onBehalfOfType, onBehalfOfRoles)
  put(_OUTCOME_REASON_)
  writeText(REASON)
  put(_STATUS_)
  put(outcomeStatuses[outcomeStatus] as Uint8Array)
  put(_SENSITIVE_FIELDS_)
  writeTextArray(sensitiveFields)
  put(_SEVERITY_)
  put(severities[severity] as Uint8Array)
  put(_SOURCE_INSTANCE_)
  writeText(INSTANCE)
  put(_SERVICE_)
  writeText(SERVICE)
  put(_VERSION_)
  writeText(VERSION)
  put(_TENANT_)
  writeText(TENANT)
  put(END)
}

function writeActor(base: number, type: number, roles: number[]): void {
  put(DISPLAY_NAME_)
  writeText(base + DISPLAY_NAME)
  put(_ID_)
  writeText(base + ID)
  put(_IP_)
  writeText(base + IP)
  put(_ROLES_)
  writeTextArray(roles)
  put(_SESSION_ID_)
  writeText(base + SESSION_ID)
  put(_TYPE_)
  put(actorTypes[type] as Uint8Array)
  put(_USER_AGENT_)
  writeText(base + USER_AGENT)
  put(END)
}

function writeChanges(): void {
  out[o++] = 0x5b // [
  for (let i = 0; i < changes.length; i += 8) {
    if (i > 0) out[o++] = 0x2c // ,
    put(NEW_VALUE_)
    writeSpan(changes[i + 4] as number, changes[i + 5] as number)
    put(_OLD_VALUE_)
    writeSpan(changes[i + 2] as number, changes[i + 3] as number)
    put(_PATH_)
    writeSpan(changes[i] as number, changes[i + 1] as number)
    put(_VALUE_TYPE_)
    writeSpan(changes[i + 6] as number, changes[i + 7] as number)
    put(END)
  }
  out[o++] = 0x5d // ]
}

const keyOrder: number[] = []

/** Keys in canonicalEventJson's order, by UTF-16 code units; maps are small, so by insertion. */
function writeAttributes(): void {
  const count = attributes.length / 4
  keyOrder.length = 0
  for (let i = 0; i < count; i++) {
    // avsc keeps the last of repeated keys and drops __proto__: its reading decides those.
    if (sameBytes(4 * i, PROTO)) throw notDirect
    let at = keyOrder.length
    let order = 1
    while (at > 0 && (order = compareKeys(4 * i, 4 * (keyOrder[at - 1] as number))) < 0) at--
    if (order === 0) throw notDirect
    keyOrder.splice(at, 0, i)
  }
  out[o++] = 0x7b // {
  for (let k = 0; k < count; k++) {
    if (k > 0) out[o++] = 0x2c // ,
    const i = 4 * (keyOrder[k] as number)
    writeSpan(attributes[i] as number, attributes[i + 1] as number)
    out[o++] = 0x3a // :
    writeSpan(attributes[i + 2] as number, attributes[i + 3] as number)
  }
  out[o++] = 0x7d // }
}

/**
 * The order of two attribute keys by UTF-16 code units. Up to their first different byte they are
 * the same characters; when both of those bytes are ASCII, their order is the bytes' order. UTF-8
 * byte order is not UTF-16's beyond ASCII (U+FF5A sorts after U+1F600 in bytes, before it in code
 * units), so then the keys are compared as strings.
 */
function compareKeys(a: number, b: number): number {
  const aStart = attributes[a] as number
  const aEnd = attributes[a + 1] as number
  const bStart = attributes[b] as number
  const bEnd = attributes[b + 1] as number
  const length = Math.min(aEnd - aStart, bEnd - bStart)
  for (let k = 0; k < length; k++) {
    const x = input[aStart + k] as number
    const y = input[bStart + k] as number
    if (x === y) continue
    if (x < 0x80 && y < 0x80) return x - y
    const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength)
    const aKey = text.toString('utf8', aStart, aEnd)
    const bKey = text.toString('utf8', bStart, bEnd)
    return aKey < bKey ? -1 : aKey > bKey ? 1 : 0
  }
  return aEnd - aStart - (bEnd - bStart)
}

function sameBytes(span: number, bytes: Uint8Array): boolean {
  const start = attributes[span] as number
  if ((attributes[span + 1] as number) - start !== bytes.length) return false
  for (let k = 0; k < bytes.length; k++) if (input[start + k] !== bytes[k]) return false
  return true
}

function writeTextArray(items: number[]): void {
  out[o++] = 0x5b // [
  for (let i = 0; i < items.length; i += 2) {
    if (i > 0) out[o++] = 0x2c // ,
    writeSpan(items[i] as number, items[i + 1] as number)
  }
  out[o++] = 0x5d // ]
}

/** A single-valued string, or null. */
function writeText(slot: number): void {
  writeSpan(spans[2 * slot] as number, spans[2 * slot + 1] as number)
}

/**
 * A string as JSON.stringify writes it (RFC 8785's string form), from its UTF-8 bytes: quote and
 * backslash escaped, control characters as \b \t \n \f \r or \u00xx, everything else as it is.
 * Bytes that are not valid UTF-8 (a surrogate's among them) leave it to avsc. A start of -1 is
 * null.
 */
function writeSpan(start: number, end: number): void {
  if (start < 0) {
    put(NULL)
    return
  }
  // Locals, not the module's variables, in the loop: most of the digest's bytes pass through it.
  const from = input
  const to = out
  let at = o
  to[at++] = 0x22
  for (let i = start; i < end; i++) {
    const byte = from[i] as number
    if (byte >= 0x20 && byte < 0x80 && byte !== 0x22 && byte !== 0x5c) {
      to[at++] = byte
    } else if (byte < 0x80) {
      at = writeEscape(byte, at)
    } else {
      const length = utf8SequenceLength(i, end)
      for (let k = 0; k < length; k++) to[at++] = from[i + k] as number
      i += length - 1
    }
  }
  to[at++] = 0x22
  o = at
}

const shortEscapes: Record<number, number> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 }
const hexDigits = Buffer.from('0123456789abcdef')

/** The escape of an ASCII byte JSON escapes, written at `at`; returns where it ends. */
function writeEscape(byte: number, at: number): number {
  out[at++] = 0x5c // \
  const short = byte === 0x22 || byte === 0x5c ? byte : shortEscapes[byte]
  if (short !== undefined) {
    out[at++] = short
    return at
  }
  out[at++] = 0x75 // u
  out[at++] = 0x30
  out[at++] = 0x30
  out[at++] = hexDigits[byte >> 4] as number
  out[at++] = hexDigits[byte & 0xf] as number
  return at
}

/**
 * The length of the well-formed UTF-8 sequence of more than one byte at `i` (Unicode's table 3-7:
 * no overlong form, no surrogate, nothing past U+10FFFF), or notDirect.
 */
function utf8SequenceLength(i: number, end: number): number {
  const lead = input[i] as number
  let length: number
  let low = 0x80
  let high = 0xbf
  if (lead >= 0xc2 && lead <= 0xdf) length = 2
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3
    if (lead === 0xe0) low = 0xa0
    else if (lead === 0xed) high = 0x9f
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4
    if (lead === 0xf0) low = 0x90
    else if (lead === 0xf4) high = 0x8f
  } else throw notDirect
  if (i + length > end) throw notDirect
  const second = input[i + 1] as number
  if (second < low || second > high) throw notDirect
  for (let k = 2; k < length; k++) {
    if (((input[i + k] as number) & 0xc0) !== 0x80) throw notDirect
  }
  return length
}

function put(bytes: Uint8Array): void {
  // A loop beats TypedArray#set for text this short.
  const to = out
  let at = o
  for (let i = 0; i < bytes.length; i++) to[at++] = bytes[i] as number
  o = at
}

function putAscii(text: string): void {
  for (let i = 0; i < text.length; i++) out[o++] = text.charCodeAt(i)
}

function symbols(...names: string[]): Uint8Array[] {
  return names.map((name) => Buffer.from(`"${name}"`))
}

const bytes = (text: string): Uint8Array => Buffer.from(text)

const NULL = bytes('null')
const PROTO = bytes('__proto__')
const END = bytes('}')
const ACTION_KIND_ = bytes('{"action":{"kind":')
const _NAME_ = bytes(',"name":')
const _ACTOR_ = bytes('},"actor":')
const _AFTER_ = bytes(',"after":')
const _ATTRIBUTES_ = bytes(',"attributes":')
const _BEFORE_ = bytes(',"before":')
const _CATEGORY_ = bytes(',"category":')
const _CHANGES_ = bytes(',"changes":')
const _CORRELATION_REQUEST_ID_ = bytes(',"correlation":{"request_id":')
const _TRACE_ID_ = bytes(',"trace_id":')
const _EVENT_ID_ = bytes('},"event_id":')
const _FORM_OBJECT_ID_ = bytes(`,"form":"${eventForm}","object":{"id":`)
const _ID2_ = bytes(',"id2":')
const _ID3_ = bytes(',"id3":')
const _LABEL_ = bytes(',"label":')
const _TYPE_ = bytes(',"type":')
const _OCCURRED_AT_ = bytes('},"occurred_at":')
const _ON_BEHALF_OF_ = bytes(',"on_behalf_of":')
const _OUTCOME_REASON_ = bytes(',"outcome":{"reason":')
const _STATUS_ = bytes(',"status":')
const _SENSITIVE_FIELDS_ = bytes('},"sensitive_fields":')
const _SEVERITY_ = bytes(',"severity":')
const _SOURCE_INSTANCE_ = bytes(',"source":{"instance":')
const _SERVICE_ = bytes(',"service":')
const _VERSION_ = bytes(',"version":')
const _TENANT_ = bytes('},"tenant":')
const DISPLAY_NAME_ = bytes('{"display_name":')
const _ID_ = bytes(',"id":')
const _IP_ = bytes(',"ip":')
const _ROLES_ = bytes(',"roles":')
const _SESSION_ID_ = bytes(',"session_id":')
const _USER_AGENT_ = bytes(',"user_agent":')
const NEW_VALUE_ = bytes('{"new_value":')
const _OLD_VALUE_ = bytes(',"old_value":')
const _PATH_ = bytes(',"path":')
const _VALUE_TYPE_ = bytes(',"value_type":')
