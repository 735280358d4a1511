import { AuditError } from '@audit-pipeline/errors'

export const verificationErrorCodes = [
  /** No stored event (and no chain entry) has this id, in the tenant asked for or in any. */
  'EVENT_NOT_FOUND',
  /** The id is stored for more than one tenant, and no tenant was named. */
  'EVENT_AMBIGUOUS',
  /** The event's entry is not covered by a checkpoint yet: the sink signs one within its interval. */
  'NOT_YET_COVERED',
  /** The stored event, its entry or the entries its checkpoint covers no longer match what was signed. */
  'TRAIL_CHANGED',
  /** The checkpoints topic is missing or holds something that is not a signed checkpoint. */
  'CHECKPOINT_TOPIC_INVALID',
  /** What ClickHouse answered is not what the trail's tables hold (a schema this version cannot read). */
  'STORAGE_UNREADABLE',
] as const

export type VerificationErrorCode = (typeof verificationErrorCodes)[number]

/**
 * What this package throws when it cannot give an answer (never for a finding: a tampered trail is
 * a report, not an error). Never retriable: each names a state of the trail or of the request.
 */
export class VerificationError extends AuditError<VerificationErrorCode> {
  constructor(code: VerificationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, false, options)
  }
}
