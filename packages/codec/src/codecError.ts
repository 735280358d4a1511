import { AuditError } from '@audit-pipeline/errors'

export const codecErrorCodes = [
  /** The message is not in the Confluent wire format, or its body does not decode. */
  'EVENT_UNDECODABLE',
  /** The schema registry could not be reached or answered with an error. */
  'REGISTRY_UNAVAILABLE',
  /** The registry answered that it has no schema with the message's id: the message can never be read. */
  'SCHEMA_UNKNOWN',
  /** The registry refused the schema (incompatible with the registered history). */
  'SCHEMA_REJECTED',
] as const

export type CodecErrorCode = (typeof codecErrorCodes)[number]

export class CodecError extends AuditError<CodecErrorCode> {}
