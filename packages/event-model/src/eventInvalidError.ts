import { AuditError } from '@audit-pipeline/errors'

/** One thing wrong with an event: the field's path (e.g. `actor.id`, `changes[2].path`) and what. */
export type EventProblem = { field: string; message: string }

/** An event that cannot be accepted as it is; retrying it will not help. */
export class EventInvalidError extends AuditError<'EVENT_INVALID'> {
  constructor(readonly problems: readonly EventProblem[]) {
    super(
      'EVENT_INVALID',
      `invalid audit event: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      false,
    )
  }
}
