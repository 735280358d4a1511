import type { EventInvalidError } from '@audit-pipeline/event-model'
import type { EventDraft } from '../normalize/eventDraft.js'
import type { InputRejectedError } from './inputRejectedError.js'
import type { MessageHeaders } from './inputMessage.js'

/**
 * The header naming a message's input format by adapter name (`audit-json`, `cloudevents`,
 * `debezium`). Producers set it; for Debezium, which sets no header of its own, Kafka Connect's
 * InsertHeader transform does (`header=audit-input-format`, `value.literal=debezium`).
 */
export const inputFormatHeader = 'audit-input-format'

/**
 * Messages read correctly that hold no audit event: counted by reason, never dead-lettered.
 */
export const skipReasons = [
  /** A null value: Kafka's deletion marker for compacted topics (Debezium writes one after each delete). */
  'TOMBSTONE',
  /** A Debezium transaction boundary (status BEGIN or END): metadata about events, not one. */
  'TRANSACTION_MARKER',
  /** A Debezium heartbeat (only `ts_ms`): keeps the connector's offsets moving. */
  'HEARTBEAT',
  /** A Debezium snapshot read (op `r`): the connector copying existing rows, an action nobody took. */
  'SNAPSHOT_READ',
  /** A Debezium logical decoding message (op `m`): application text written to the WAL, not a row change. */
  'LOGICAL_MESSAGE',
] as const

export type SkipReason = (typeof skipReasons)[number]

/**
 * What an adapter made of one message: audit events (a batch format may hold several), nothing on
 * purpose, or a typed refusal. Adapters return this and never throw.
 */
export type AdapterOutcome =
  | { status: 'events'; drafts: EventDraft[] }
  | { status: 'skipped'; reason: SkipReason }
  | { status: 'rejected'; error: InputRejectedError | EventInvalidError }

/** A message's value, already parsed as JSON once for every adapter, with its headers. */
export type AdapterInput = {
  body: unknown
  headers: MessageHeaders
  /**
   * The paths a tenant's redaction policy calls sensitive: an adapter computing changes itself
   * (Debezium) compares them whole, so that no change path spells out a key below them. Default:
   * none.
   */
  sensitiveFieldsOf?: (tenant: string) => readonly string[]
}

/**
 * One input format. Choosing the adapter is explicit first and cheap (adaptMessage.ts): the
 * `audit-input-format` header, then each adapter's own headers, and only then a look at the
 * parsed body's top-level keys. The shapes are disjoint (CloudEvents has `specversion`, Debezium
 * `op`, the strict JSON form neither), so the fallback cannot pick one format for another.
 */
export type InputAdapter = {
  /** The adapter's name: the `audit-input-format` value choosing it, and its metric label. */
  readonly name: string
  /** What `recognizes` looks for, for the error when nothing matched. */
  readonly shape: string
  /** Headers other than `audit-input-format` by which a producer declares this format (content-type). */
  declaredBy(headers: MessageHeaders): boolean
  /** The fallback: whether a body of unknown format has this format's shape. Top-level keys only. */
  recognizes(body: unknown): boolean
  /** Turns the message into drafts for normalizeEvent. Never throws. */
  toEvents(input: AdapterInput): AdapterOutcome
}

export function rejected(error: InputRejectedError | EventInvalidError): AdapterOutcome {
  return { status: 'rejected', error }
}
