import type { EventIdConflict } from '@audit-pipeline/dead-letter'

/**
 * Why the normalizer dead-lettered a message, as a closed list: the `audit-dlq-error-class`
 * header and the `reason` label of the dead-letter counter. The finer cause (an input rejection
 * reason such as NOT_JSON, or WRONG_MAGIC_BYTE) goes in `audit-dlq-error-reason`.
 */
export const deadLetterClasses = [
  /** Bytes that are neither Avro in the Confluent wire format nor JSON text, or an Avro body that does not decode. */
  'EVENT_UNDECODABLE',
  /** Avro naming a schema id the registry does not have. */
  'SCHEMA_UNKNOWN',
  /** JSON that no input adapter could read as audit events (reason: the adapter's rejection reason). */
  'INPUT_REJECTED',
  /** A readable record that breaks the event rules: a missing field, a bad timestamp, an unknown action kind. */
  'EVENT_INVALID',
  /** A message, or the normalized event it makes, over the configured size limit. */
  'EVENT_TOO_LARGE',
  /** JSON nested deeper than every service accepts (maxJsonNestingDepth), refused before it is walked. */
  'EVENT_TOO_DEEP',
  /**
   * An event whose (tenant, event_id) went out with other content: the first copy is kept, this
   * one is refused, with both content digests in the dead letter's headers (a replay with the same
   * content is a duplicate and is dropped, not dead-lettered).
   */
  'EVENT_ID_CONFLICT',
  /**
   * An event claiming a namespace only the pipeline's own services write (an alert, an access
   * record, an integrity record; reason: ALERT, ACCESS_RECORD or INTEGRITY): those never come
   * from producers' topics.
   */
  'RESERVED_NAMESPACE',
  /**
   * Reading the message failed in a way no rule foresaw (reason: the error's name). The message is
   * set aside so that the partition goes on: one record can never stop the ones behind it.
   */
  'RECORD_FAILED',
] as const

export type DeadLetterClass = (typeof deadLetterClasses)[number]

/** What the dead-letter record says about a message the normalizer could not turn into events. */
export type DeadLetterCause = {
  errorClass: DeadLetterClass
  reason?: string
  message: string
  /** EVENT_ID_CONFLICT: both copies by digest, for the dead letter's headers. */
  conflict?: EventIdConflict
}
