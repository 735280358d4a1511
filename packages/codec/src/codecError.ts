export const codecErrorCodes = [
  /** The message is not in the Confluent wire format, or its body does not decode. */
  'EVENT_UNDECODABLE',
  /** The schema registry could not be reached or answered with an error. */
  'REGISTRY_UNAVAILABLE',
  /** The registry refused the schema (incompatible with the registered history). */
  'SCHEMA_REJECTED',
] as const

export type CodecErrorCode = (typeof codecErrorCodes)[number]

export class CodecError extends Error {
  constructor(
    readonly code: CodecErrorCode,
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'CodecError'
  }
}
