/**
 * What the pipeline's packages throw: a code from the package's own closed list (callers classify
 * by `instanceof` and `code`, never by message text), whether retrying can help, and the cause.
 * Each package subclasses it with its code union and a `name`.
 */
export class AuditError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = new.target.name
  }
}
