import { AuditError } from '@audit-pipeline/errors'

/**
 * Why a message could not be read as audit events, as a closed list: the dead-letter reason and a
 * low-cardinality metric label. Problems inside a readable audit record are EventInvalidError
 * instead, with one entry per field.
 */
export const inputRejectionReasons = [
  /** The value is not UTF-8 JSON text (an Avro value that reached the JSON adapters lands here too). */
  'NOT_JSON',
  /** The `audit-input-format` header names no adapter. */
  'UNKNOWN_FORMAT',
  /** No header named the format and the JSON shape matches no adapter. */
  'UNRECOGNIZED_SHAPE',
  /** The foreign envelope breaks its own specification: a required attribute missing or mistyped. */
  'ENVELOPE_INVALID',
  /** A CloudEvents `specversion` other than 1.0. */
  'UNSUPPORTED_SPEC_VERSION',
  /** A data content type that is not JSON. */
  'UNSUPPORTED_CONTENT_TYPE',
  /** A Debezium `op` outside c, u, d, r, t, m. */
  'UNSUPPORTED_OPERATION',
  /** A row lacks a configured column: a primary key column or the tenant column. */
  'ROW_COLUMN_MISSING',
  /** A Debezium source block without any position field, so no stable event id can be derived. */
  'SOURCE_POSITION_MISSING',
  /** An adapter threw instead of answering: a bug, reported rather than crashing the consumer loop. */
  'ADAPTER_FAILED',
] as const

export type InputRejectionReason = (typeof inputRejectionReasons)[number]

/**
 * A message no adapter could turn into audit events. Never retriable: the same bytes fail the same
 * way. `field` is where in the message (`payload.source.ts_ms`, `ce_time`, `(value)`); messages
 * name fields and expectations, never the values of a record, which are personal data.
 */
export class InputRejectedError extends AuditError<'EVENT_UNDECODABLE'> {
  constructor(
    readonly reason: InputRejectionReason,
    /** The adapter that refused it; null when none was chosen. */
    readonly adapter: string | null,
    readonly field: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super('EVENT_UNDECODABLE', `${adapter ?? 'input'}: ${field}: ${problem}`, false, options)
  }
}

/** The error factory one adapter uses for everything it refuses, its name filled in. */
export function rejectionsOf(adapter: string) {
  return (
    reason: InputRejectionReason,
    field: string,
    problem: string,
    cause?: unknown,
  ): InputRejectedError =>
    new InputRejectedError(reason, adapter, field, problem, cause === undefined ? undefined : { cause })
}

/** An adapter's configuration is unusable; thrown once, at start-up, naming the setting. */
export class AdapterConfigError extends AuditError<'CONFIG_INVALID'> {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super('CONFIG_INVALID', `${setting}: ${problem}`, false)
  }
}
