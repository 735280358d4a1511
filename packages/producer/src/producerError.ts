import { AuditError } from '@audit-pipeline/errors'

export const producerErrorCodes = [
  /** Kafka could not be reached when connecting. */
  'BROKER_UNAVAILABLE',
  /** The schema registry could not be reached, or refused the event schema. */
  'REGISTRY_UNAVAILABLE',
  /** The topic to send to does not exist. */
  'TOPIC_MISSING',
  /** Kafka did not acknowledge a batch after the retries: its events were not recorded. */
  'SEND_FAILED',
  /**
   * Sealing with `encryption`: the key store did not give the keys to seal an event's sensitive
   * values with (unreadable, wrong key-encryption key, KMS down): that event was not sent.
   */
  'KEY_STORE_UNAVAILABLE',
  /** The producer was closed. */
  'CLOSED',
] as const

export type ProducerErrorCode = (typeof producerErrorCodes)[number]

export class ProducerError extends AuditError<ProducerErrorCode> {}
