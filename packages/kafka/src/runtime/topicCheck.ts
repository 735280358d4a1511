import type { Admin } from 'kafkajs'
import { AuditError } from '@audit-pipeline/errors'

/**
 * Topics a service needs are missing: it refuses to start, naming them and the settings that name
 * them. (An idempotent producer would otherwise retry a send to a missing topic for ever, stalling
 * every partition with no error to show.)
 */
export class TopicsMissingError extends AuditError<'TOPICS_MISSING'> {
  constructor(
    readonly topics: readonly string[],
    settings: string,
    hint: string,
  ) {
    super('TOPICS_MISSING', `topics missing: ${topics.join(', ')} (${settings}); ${hint}`, false)
  }
}

export type RequiredTopics = {
  readonly topics: readonly string[]
  /** The settings that name them, for the error: `SINK_INPUT_TOPICS, SINK_DEAD_LETTER_TOPIC`. */
  readonly settings: string
  /** What to do about it. */
  readonly hint?: string
}

/** Throws TopicsMissingError when any of `required.topics` does not exist. */
export async function requireTopics(admin: Admin, required: RequiredTopics): Promise<void> {
  const existing = new Set(await admin.listTopics())
  const missing = required.topics.filter((topic) => !existing.has(topic))
  if (missing.length > 0) {
    throw new TopicsMissingError(
      missing,
      required.settings,
      required.hint ?? 'create them, or start the normalizer, which creates its outputs',
    )
  }
}
