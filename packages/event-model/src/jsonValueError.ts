export const jsonValueErrorCodes = [
  /** NaN, Infinity or -Infinity: JSON has no text for them, and writing `null` would hide the value. */
  'NON_FINITE_NUMBER',
  /** A Date whose time is NaN: it has no ISO text, and writing `null` would look like a cleared field. */
  'INVALID_DATE',
  /**
   * A value with no faithful JSON text: a function, a symbol, an instance of a class other than Date,
   * an object with symbol keys, an `undefined` item or a hole in an array.
   */
  'UNSUPPORTED_VALUE',
  /** An object or array that contains itself. */
  'CYCLE',
  /** A snapshot that is neither a plain object nor `undefined`: field changes need fields. */
  'ROOT_NOT_OBJECT',
  /** A field path that does not follow the path grammar (jsonValuePath.ts). */
  'INVALID_PATH',
  /** Text that should be JSON and is not. */
  'INVALID_JSON_TEXT',
  /** JSON text whose objects and arrays nest deeper than maxJsonNestingDepth (jsonNesting.ts). */
  'TOO_DEEP',
  /** A change that does not fit the snapshot it is applied to (applyChanges). */
  'CHANGE_NOT_APPLICABLE',
] as const

export type JsonValueErrorCode = (typeof jsonValueErrorCodes)[number]

/**
 * A value, JSON text or field path the diff and redaction helpers cannot handle without losing or
 * inventing information. `path` names where: the field path inside the snapshot (`items[3].price`,
 * empty for the snapshot itself), or the event field holding the text (`changes[2].new_value`).
 * Never retriable: the same input fails the same way.
 */
export class JsonValueError extends Error {
  readonly retriable = false
  constructor(
    readonly code: JsonValueErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'JsonValueError'
  }
}
