import { AuditError } from '@audit-pipeline/errors'

/**
 * A signing key or a published public-keys document that cannot be used: `source` names the file
 * (or wherever the document came from) and the message says what is wrong with it. Never
 * retriable: the same file gives the same answer until someone fixes it.
 */
export class IntegrityKeyError extends AuditError<'INTEGRITY_KEY_INVALID'> {
  constructor(
    readonly source: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super('INTEGRITY_KEY_INVALID', `${source}: ${problem}`, false, options)
  }
}
