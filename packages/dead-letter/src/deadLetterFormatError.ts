import type { DeadLetterLocation } from './deadLetterRecord.js'

/**
 * A message in a dead-letter topic that is not a readable dead letter: a required `audit-dlq-*`
 * header is missing, repeated or malformed. `problems` names each header at fault.
 */
export class DeadLetterFormatError extends Error {
  constructor(
    readonly location: DeadLetterLocation,
    readonly problems: readonly string[],
  ) {
    super(
      `message ${location.topic}/${location.partition}/${location.offset} is not a dead letter: ${problems.join('; ')}`,
    )
    this.name = 'DeadLetterFormatError'
  }
}
