import {
  DeadLetterFormatError,
  readDeadLetter,
  type ConsumedMessage,
  type DeadLetter,
  type DeadLetterLocation,
  type EventIdConflict,
} from '@audit-pipeline/dead-letter'
import { uuidPattern, type AuditEvent } from '@audit-pipeline/event-model'
import { alertEvent } from './alertEvent.js'
import { alertIdFor, type AlertNotice } from './alertNotice.js'

/** The rule id of the alert raised for every event-id conflict. */
export const eventIdConflictAlertRule = 'pipeline.event-id-conflict'

/** The dead letters' error class of an event refused for reusing an accepted event id. */
export const eventIdConflictClass = 'EVENT_ID_CONFLICT'

const digestPattern = /^[0-9a-f]{64}$/

/**
 * What is wrong with a dead letter's conflict, or undefined when it names one the alert can be
 * raised for: a tenant, a UUID event id (every accepted event has one) and two lowercase hex
 * SHA-256 digests (packages/integrity).
 */
export function conflictProblem(conflict: EventIdConflict | undefined): string | undefined {
  if (conflict === undefined) return `an ${eventIdConflictClass} dead letter without its conflict headers`
  const problems = [
    conflict.tenant.trim() === '' && 'the tenant is empty',
    !uuidPattern.test(conflict.eventId) && 'the event id is not a UUID',
    !digestPattern.test(conflict.storedDigest) && 'the stored digest is not lowercase hex SHA-256',
    !digestPattern.test(conflict.refusedDigest) && 'the refused digest is not lowercase hex SHA-256',
  ].filter((problem) => problem !== false)
  return problems.length === 0 ? undefined : problems.join('; ')
}

/**
 * The security alert for an event refused because its (tenant, event_id) was already accepted
 * with other content: someone may be trying to rewrite history. It goes to the customer's own
 * tenant, whose auditors must see it, and names the event, both copies by digest and the service
 * that refused the second.
 *
 * Everything in it comes from the dead letter, so reading the dead letter again (after a crash,
 * before the commit) writes a byte-identical alert, which downstream deduplicates. Its id derives
 * from the tenant, event id and refused digest and from the rest of what it says (where and when
 * the copy was refused): the same refused copy dead-lettered twice (a producer's retry, or a
 * service re-reading after a crash) makes two dead letters that differ in those, and two alerts
 * under one id with different content would look like a conflict themselves downstream.
 */
export function eventIdConflictNotice(deadLetter: DeadLetter & { conflict: EventIdConflict }): AlertNotice {
  const { conflict, source } = deadLetter
  const atMs = deadLetter.failedAt.getTime()
  return {
    status: 'raised',
    alertId: alertIdFor(
      eventIdConflictAlertRule,
      conflict.tenant,
      conflict.eventId,
      conflict.refusedDigest,
      conflict.storedDigest,
      deadLetter.service,
      source.topic,
      source.partition,
      source.offset,
      atMs,
    ),
    ruleId: eventIdConflictAlertRule,
    ruleKind: 'pipeline',
    severity: 'critical',
    description:
      `Event ${conflict.eventId} sent again with other content: refused by ${deadLetter.service} ` +
      `(stored digest ${conflict.storedDigest}, refused digest ${conflict.refusedDigest})`,
    tenant: conflict.tenant,
    groupKey: conflict.eventId,
    atMs,
    windowStartMs: atMs,
    windowEndMs: atMs,
    figures: {
      event_id: conflict.eventId,
      stored_digest: conflict.storedDigest,
      refused_digest: conflict.refusedDigest,
      refused_by: deadLetter.service,
      source_topic: source.topic,
      source_partition: source.partition,
      source_offset: source.offset,
    },
    // The copy that was refused is what triggered it; the stored one is in the figures.
    triggeringEvents: [{ eventId: conflict.eventId, contentDigest: conflict.refusedDigest }],
  }
}

/**
 * The alert event of a conflict notice: recorded at the refusal's time, with no instance or
 * version in its source, and in a group of its own, so that any instance, at any version, reading
 * the dead letter at any time writes the same event.
 */
export function eventIdConflictEvent(notice: AlertNotice): AuditEvent {
  return alertEvent(notice, { instance: null, version: null }, notice.atMs, {
    groupId: notice.alertId,
    groupSize: 1,
  })
}

/**
 * Why a message on a conflict input topic was skipped as unreadable (the `reason` label of
 * `audit_alerting_dead_letters_unreadable_total`): not a dead letter (its `audit-dlq-*` headers
 * are missing or malformed), an EVENT_ID_CONFLICT whose conflict is missing or malformed, or one
 * whose alert could not be built (RECORD_FAILED, conflictSteps.ts).
 */
export const unreadableReasons = ['NOT_A_DEAD_LETTER', 'CONFLICT_INVALID', 'RECORD_FAILED'] as const
export type UnreadableReason = (typeof unreadableReasons)[number]

/** What one message of a dead-letter topic amounts to for the conflict alerts. */
export type ConflictReading =
  | { kind: 'alert'; notice: AlertNotice; event: AuditEvent }
  /** A dead letter of another class: nothing to raise. */
  | { kind: 'other'; errorClass: string }
  | { kind: 'unreadable'; reason: UnreadableReason; problem: string }

/**
 * Reads one message of a dead-letter topic found at `at`: the conflict alert of an
 * EVENT_ID_CONFLICT dead letter, another class to skip, or why it is unreadable. Never throws for
 * what the message holds. Pure.
 */
export function readConflictAlert(message: ConsumedMessage, at: DeadLetterLocation): ConflictReading {
  let deadLetter: DeadLetter
  try {
    deadLetter = readDeadLetter(message, at)
  } catch (error) {
    if (error instanceof DeadLetterFormatError) {
      return { kind: 'unreadable', reason: 'NOT_A_DEAD_LETTER', problem: error.message }
    }
    throw error
  }
  if (deadLetter.errorClass !== eventIdConflictClass)
    return { kind: 'other', errorClass: deadLetter.errorClass }
  const { conflict } = deadLetter
  const problem = conflictProblem(conflict)
  if (problem !== undefined || conflict === undefined) {
    return {
      kind: 'unreadable',
      reason: 'CONFLICT_INVALID',
      problem: problem ?? `an ${eventIdConflictClass} dead letter without its conflict headers`,
    }
  }
  const notice = eventIdConflictNotice({ ...deadLetter, conflict })
  return { kind: 'alert', notice, event: eventIdConflictEvent(notice) }
}
