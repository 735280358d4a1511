/**
 * A schema avsc refuses to parse (an unknown type, a default that does not match its field, a
 * duplicate name): there is nothing to compare, so the gate reports it instead of a verdict.
 * `schema` says which one, e.g. `new schema` or `released v3`. Never retriable.
 */
export class SchemaInvalidError extends Error {
  readonly code = 'SCHEMA_INVALID'
  readonly retriable = false
  constructor(
    readonly schema: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${schema} is not a valid Avro schema: ${reason}`, options)
    this.name = 'SchemaInvalidError'
  }
}
