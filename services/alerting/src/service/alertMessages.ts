import type { Message } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { alertEvent, groupingOf, type AlertSource } from '../alerts/alertEvent.js'
import type { AlertNotice } from '../alerts/alertNotice.js'

/** How the evaluator writes alerts to the alerts topic: Avro canonical events, keyed per group. */
export function alertMessages(
  codec: Pick<AuditEventCodec, 'encode'>,
  source: AlertSource,
  now: () => number,
) {
  return {
    /** A transaction's alerts as messages; the alerts of one rule in it share a grouping. */
    messagesOf(notices: readonly AlertNotice[]): Message[] {
      const groupings = groupingOf(notices)
      const recordedAt = now()
      return notices.map((notice, index) =>
        alertMessage(
          notice,
          codec.encode(
            alertEvent(
              notice,
              source,
              recordedAt,
              groupings[index] ?? { groupId: notice.alertId, groupSize: 1 },
            ),
          ),
        ),
      )
    },
    /**
     * Encodes an event's alerts as the transaction will (only the grouping differs, and it cannot
     * fail), so an alert that cannot be written fails its event, not the transaction.
     */
    check(notices: readonly AlertNotice[]): void {
      const recordedAt = now()
      for (const notice of notices) {
        codec.encode(alertEvent(notice, source, recordedAt, { groupId: notice.alertId, groupSize: 1 }))
      }
    },
  }
}

/** An alert's message on the alerts topic, its event encoded as `value`. */
export function alertMessage(notice: AlertNotice, value: Buffer): Message {
  return {
    // One group's raised and resolved notices stay in order on one partition.
    key: `${notice.ruleId}\u0000${notice.tenant}\u0000${notice.groupKey}`,
    value,
    headers: { 'audit-alert-id': notice.alertId, 'audit-alert-status': notice.status },
  }
}
