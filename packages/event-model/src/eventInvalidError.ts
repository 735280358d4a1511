/** One thing wrong with an event: the field's path (e.g. `actor.id`, `changes[2].path`) and what. */
export type EventProblem = { field: string; message: string }

/** An event that cannot be accepted as it is; retrying it will not help. */
export class EventInvalidError extends Error {
  readonly code = 'EVENT_INVALID'
  readonly retriable = false
  constructor(readonly problems: readonly EventProblem[]) {
    super(`invalid audit event: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`)
    this.name = 'EventInvalidError'
  }
}
