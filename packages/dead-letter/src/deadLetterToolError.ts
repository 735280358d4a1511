export const deadLetterToolErrorCodes = [
  /** The dead-letter topic to read does not exist. */
  'TOPIC_MISSING',
  /** A replay would send to a topic that does not exist. */
  'TARGET_TOPIC_MISSING',
  /** Another consumer is in the replay's consumer group: a replay of the same topic is running. */
  'REPLAY_IN_PROGRESS',
  /** `limit` or another option is out of range. */
  'OPTION_INVALID',
  /** A sealed dead letter is to be replayed, and no key store was given to open it. */
  'KEYS_MISSING',
  /** A sealed dead letter names a key the key store does not know: not the store that sealed it. */
  'KEY_UNKNOWN',
] as const

export type DeadLetterToolErrorCode = (typeof deadLetterToolErrorCodes)[number]

/**
 * What listing and replaying throw for a problem the operator must fix. Kafka's own failures
 * (unreachable broker, send not acknowledged) propagate as kafkajs errors.
 */
export class DeadLetterToolError extends Error {
  constructor(
    readonly code: DeadLetterToolErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'DeadLetterToolError'
  }
}
