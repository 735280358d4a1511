import { eventNestingProblem, type AuditEvent } from '@audit-pipeline/event-model'
import type { AlertNotice } from '../alerts/alertNotice.js'
import type { AlertEngine } from './alertEngine.js'

/**
 * Why the evaluator dead-lettered a message, as a closed list: the `audit-dlq-error-class` header
 * and the `reason` label of `audit_alerting_events_dead_lettered_total`. A message that does not
 * decode carries the codec's code (EVENT_UNDECODABLE, SCHEMA_UNKNOWN) instead.
 */
export const recordFailureClasses = [
  /** JSON in the event nested deeper than every service accepts (maxJsonNestingDepth), refused before any walk. */
  'EVENT_TOO_DEEP',
  /**
   * Evaluating the event failed in a way no rule foresaw (reason: the error's name, e.g.
   * RANGE_ERROR, STATE_NOT_WRITABLE_ERROR). The event is set aside so that the partition goes on.
   */
  'RECORD_FAILED',
] as const

export type RecordFailureClass = (typeof recordFailureClasses)[number]

/** What the dead letter says: its class (a code), a finer reason (a code), a message for people. */
export type DeadLetterCause = { errorClass: string; reason?: string; message: string }

/** One event's result: the alerts it raised (its state changes sealed), or why it is set aside. */
export type RecordOutcome =
  | { kind: 'evaluated'; notices: AlertNotice[] }
  | { kind: 'dead-letter'; cause: DeadLetterCause; error?: unknown }

/** What evaluating one record needs of the engine. */
export type RecordEngine = Pick<AlertEngine, 'evaluate' | 'sealStateChanges' | 'forgetUnsealedChanges'>

/**
 * Evaluates one decoded event as one unit, so that nothing it does can reach past it. JSON nested
 * past the shared limit is refused before anything parses or walks it (EVENT_TOO_DEEP). Then the
 * rules run, the alerts are checked (`checkNotices` encodes them as the transaction will) and the
 * state changes are sealed into changelog text. If any step throws (a bug, a stack overflow, an
 * entry that cannot be written), the alerts are dropped, the state the event changed is forgotten
 * (alertEngine.ts, forgetUnsealedChanges), and the event is dead-lettered as RECORD_FAILED with
 * the error's name: the transaction that follows only holds what was checked, so one event can
 * never stop the commits of the events after it, nor fail again on every restart. Pure: no I/O.
 */
export function evaluateRecord(
  event: AuditEvent,
  context: {
    engine: RecordEngine
    /** The input partition the event came from, and the wall clock: steer the watermark. */
    from: { source: string; nowMs: number }
    /** Throws when an alert cannot be written. */
    checkNotices: (notices: readonly AlertNotice[]) => void
  },
): RecordOutcome {
  const { engine } = context
  try {
    // Before anything parses or walks the event's JSON: nothing has changed yet if it is refused.
    const tooDeep = eventNestingProblem(event)
    if (tooDeep !== undefined) {
      return { kind: 'dead-letter', cause: { errorClass: 'EVENT_TOO_DEEP', message: tooDeep } }
    }
    const notices = engine.evaluate(event, context.from)
    if (notices.length > 0) context.checkNotices(notices)
    engine.sealStateChanges()
    return { kind: 'evaluated', notices }
  } catch (error) {
    engine.forgetUnsealedChanges()
    return recordFailed(error, 'evaluating the event')
  }
}

/** The dead letter of a record whose handling threw: RECORD_FAILED, the error's name as reason. */
export function recordFailed(error: unknown, doing: string): RecordOutcome & { kind: 'dead-letter' } {
  const name = error instanceof Error ? error.name : typeof error
  const text = error instanceof Error ? error.message : String(error)
  return {
    kind: 'dead-letter',
    cause: {
      errorClass: 'RECORD_FAILED',
      reason: errorNameCode(name),
      message: `${doing} failed: ${name}: ${text}`,
    },
    error,
  }
}

/** A dead letter's reason is a code: RangeError becomes RANGE_ERROR. */
export function errorNameCode(name: string): string {
  const code = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_')
    .replace(/^[^A-Z]+/, '')
    .slice(0, 64)
  return code === '' ? 'UNKNOWN' : code
}
