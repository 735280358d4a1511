import type { EventIdConflict } from '@audit-pipeline/dead-letter'
/**
 * Why one record could not be processed, as its dead letter states it: a class (a code that
 * labels metrics), an optional finer reason code, and a message for people.
 */
export type RecordFailure = {
  readonly errorClass: string
  readonly reason?: string
  readonly message: string
  /** EVENT_ID_CONFLICT: the copy kept and the copy refused, written into the dead letter's headers. */
  readonly conflict?: EventIdConflict
}

/** A step's result for one record: its value, or the failure that dead-letters it. */
export type RecordOutcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: RecordFailure }

/** An error that says what kind of failure it is: the pipeline's AuditError and its subclasses. */
type CodedError = Error & { code: string; retriable: boolean }

const codePattern = /^[A-Z][A-Z0-9_]*$/

function isCoded(error: unknown): error is CodedError {
  return (
    error instanceof Error &&
    typeof (error as Partial<CodedError>).code === 'string' &&
    typeof (error as Partial<CodedError>).retriable === 'boolean'
  )
}

/**
 * Whether an error is an outage (retriable by its own account: a registry or broker that did not
 * answer) rather than something wrong with the record. An outage holds the partition and is
 * waited out; it never dead-letters a record.
 */
export function isOutage(error: unknown): boolean {
  return isCoded(error) && error.retriable
}

/**
 * The dead-letter cause for an error a record caused. A coded, final error keeps its code
 * (EVENT_UNDECODABLE …). Anything else (a bug, a stack overflow, a failed serialisation: input no
 * check foresaw) becomes RECORD_FAILED with the error's name as reason, RangeError as
 * RANGE_ERROR, so the partition goes on instead of re-reading the record for ever.
 */
export function recordFailureOf(error: unknown): RecordFailure {
  if (isCoded(error) && !error.retriable && codePattern.test(error.code)) {
    return { errorClass: error.code, message: error.message.slice(0, 1000) }
  }
  const name = error instanceof Error ? error.name : typeof error
  const text = error instanceof Error ? error.message : String(error)
  const reason = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_')
    .replace(/^[^A-Z]+/, '')
    .slice(0, 64)
  return {
    errorClass: 'RECORD_FAILED',
    reason: reason || 'UNKNOWN',
    message: `processing the record failed: ${name}: ${text}`.slice(0, 1000),
  }
}

/**
 * A record's work was cut short by the service stopping or restarting, not by the record: it is
 * neither done nor failed, and is read again by whoever reads the partition next.
 */
export class StepInterrupted extends Error {
  override readonly name = 'StepInterrupted'
}

/**
 * Runs one record's work so that whatever it throws, short of an outage or an interruption,
 * becomes that record's failure. Outages are rethrown: they hold the partition until they end.
 * So is StepInterrupted: a stop must never turn unfinished work into a dead letter.
 */
export async function isolated<T>(work: () => Promise<T> | T): Promise<RecordOutcome<T>> {
  try {
    return { ok: true, value: await work() }
  } catch (error) {
    if (isOutage(error) || error instanceof StepInterrupted) throw error
    return { ok: false, failure: recordFailureOf(error) }
  }
}
