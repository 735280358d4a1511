import kafkajs, { type Message, type PartitionMetadata } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import {
  alertEvent,
  alertPayloadOf,
  type AlertGrouping,
  type AlertPayload,
  type AlertSource,
} from '../alerts/alertEvent.js'
import type { AlertNotice } from '../alerts/alertNotice.js'

// kafkajs is CommonJS: its partitioners are read from the default export under Node's ESM.
const { Partitioners } = kafkajs

/** An alert with what its message needs beyond the notice: its grouping and its partition. */
export type PlacedAlert = {
  readonly notice: AlertNotice
  readonly grouping: AlertGrouping
  /** The partition of the alerts topic it is written to (alertKey's, as the producer would choose). */
  readonly partition: number
}

/** How the evaluator writes alerts to the alerts topic: Avro canonical events, keyed per group. */
export function alertMessages(
  codec: Pick<AuditEventCodec, 'encode'>,
  source: AlertSource,
  now: () => number,
) {
  return {
    /** A transaction's alerts as messages, each in its partition with its grouping. */
    messagesOf(alerts: readonly PlacedAlert[]): Message[] {
      const recordedAt = now()
      return alerts.map(({ notice, grouping, partition }) => ({
        ...alertMessage(notice, codec.encode(alertEvent(notice, source, recordedAt, grouping))),
        partition,
      }))
    },
    /**
     * The alert as receivers get it, the same as its message on the topic reads back as
     * (webhookSteps.ts): only `recorded_at` differs, and the payload does not carry it.
     */
    payloadOf({ notice, grouping }: PlacedAlert): AlertPayload {
      const payload = alertPayloadOf(alertEvent(notice, source, now(), grouping))
      if (!payload) throw new Error(`alert ${notice.alertId} does not read back as an alert`)
      return payload
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

/** An alert's key on the alerts topic: one group's raised and resolved notices stay in order on one partition. */
export const alertKey = (notice: AlertNotice) =>
  `${notice.ruleId}\u0000${notice.tenant}\u0000${notice.groupKey}`

/** An alert's message on the alerts topic, its event encoded as `value`. */
export function alertMessage(notice: AlertNotice, value: Buffer): Message {
  return {
    key: alertKey(notice),
    value,
    headers: { 'audit-alert-id': notice.alertId, 'audit-alert-status': notice.status },
  }
}

/**
 * The partition of an alert's key among `partitions`, as kafkajs's default (Java-compatible,
 * murmur2) partitioner chooses it: the evaluator names it on each message, so it knows where an
 * alert goes before the transaction is sent (delivery/atOnceGate.ts), and keys keep the partition
 * they had when the producer chose it.
 */
export function alertPartitioner(topic: string, partitions: number): (notice: AlertNotice) => number {
  const partitioner = Partitioners.DefaultPartitioner()
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }))
  return (notice) =>
    partitioner({ topic, partitionMetadata, message: { key: alertKey(notice), value: null } })
}
