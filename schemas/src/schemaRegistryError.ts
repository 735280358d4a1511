import { AuditError } from '@audit-pipeline/errors'

export const schemaRegistryErrorCodes = [
  /** No answer: connection refused, DNS failure, or no response within the request timeout. */
  'REGISTRY_UNREACHABLE',
  /** An answer the Confluent-compatible API does not give for this request: wrong URL, server error. */
  'REGISTRY_UNEXPECTED_RESPONSE',
  /** The registry refused to register a schema (409: incompatible with the subject's versions). */
  'REGISTRY_REJECTED_SCHEMA',
] as const

export type SchemaRegistryErrorCode = (typeof schemaRegistryErrorCodes)[number]

/** A schema registry request that did not give an answer the gate can use; the message names the URL. */
export class SchemaRegistryError extends AuditError<SchemaRegistryErrorCode> {}
