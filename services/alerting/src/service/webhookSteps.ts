import type { AuditEventCodec } from '@audit-pipeline/codec'
import {
  commitOffsets,
  runTask,
  type KafkaRecord,
  type Processed,
  type ProcessingStep,
  type RuntimeContext,
  registryOutage,
} from '@audit-pipeline/kafka'
import type { Logger } from '@audit-pipeline/service-runtime'
import { alertPayloadOf } from '../alerts/alertEvent.js'
import type { ReceiverDeliveries } from '../delivery/receiverDeliveries.js'
import { receives, type Receiver } from '../delivery/receivers.js'
import type { AlertDelivery } from '../delivery/sendAlert.js'
import type { AlertingMetrics } from '../metrics.js'

export type { AlertDelivery } from '../delivery/sendAlert.js'

export type WebhookStepsOptions = {
  receiver: Receiver
  codec: Pick<AuditEventCodec, 'decode'>
  /**
   * The receiver's deliveries (delivery/receiverDeliveries.ts): joins the one made at once, or
   * sends the alert (retries, backoff, signing, the address guard), one outcome per alert.
   */
  deliveries: Pick<ReceiverDeliveries, 'deliver' | 'finished'>
  metrics: Pick<AlertingMetrics, 'deliveries'>
  log: Logger
}

/**
 * One receiver's steps on the consumer runtime, the topic path: decode each alert of the alerts
 * topic (read_committed: its transaction committed) and see it delivered, by the delivery made at
 * once when the evaluator raised it or else by sending it now, until delivered, refused, or out
 * of attempts (runTask: whatever else one alert does is that alert's failure) → commit the offset
 * after it. At least once, one alert after another per partition: an alert's offset is committed
 * only once the receiver answered for it. Stopping or restarting mid-retry throws
 * StepInterrupted: the alert is neither skipped nor committed, and is sent again after the
 * restart (with the same `webhook-id`).
 */
export function webhookSteps(
  options: WebhookStepsOptions,
  context: RuntimeContext,
): ProcessingStep<KafkaRecord> {
  return runTask(deliverAlert(options, context), commitDelivered(options, context))
}

function deliverAlert(
  options: WebhookStepsOptions,
  context: Pick<RuntimeContext, 'signal' | 'whileUnavailable'>,
): (record: KafkaRecord) => Promise<AlertDelivery> {
  return async (record) => {
    const { value } = record
    // A tombstone holds no alert.
    if (value === null) return 'not-routed'
    // An alert that does not decode throws: not an alert this service wrote (commitDelivered).
    const event = await context.whileUnavailable(registryOutage, () => options.codec.decode(value))
    const alert = alertPayloadOf(event)
    if (!alert || !receives(options.receiver, alert)) return 'not-routed'
    const at = {
      partition: record.partition,
      offset: BigInt(record.offset),
      writtenAtMs: Number(record.timestamp),
    }
    return options.deliveries.deliver(alert, at, context.signal)
  }
}

/**
 * The last step: the offset after each alert the receiver answered for (or that is not the
 * receiver's). A message on the alerts topic that does not decode is not an alert this service
 * wrote: nothing to deliver, and reading it again would not help; it is counted as failed,
 * logged and skipped, as is an alert whose delivery threw (a bug).
 */
function commitDelivered(
  options: Pick<WebhookStepsOptions, 'receiver' | 'metrics' | 'log' | 'deliveries'>,
  context: Pick<RuntimeContext, 'commit'>,
): ProcessingStep<Processed<KafkaRecord, AlertDelivery>> {
  const commit = commitOffsets<Processed<KafkaRecord, AlertDelivery>>(context.commit)
  return {
    async submit(message) {
      const { input, outcome } = message.payload
      if (!outcome.ok) {
        const { failure } = outcome
        options.metrics.deliveries.inc({ receiver: options.receiver.name, status: 'failed' })
        options.log.error(
          {
            topic: input.topic,
            partition: input.partition,
            offset: input.offset,
            errorClass: failure.errorClass,
            ...(failure.reason !== undefined && { reason: failure.reason }),
            problem: failure.message,
          },
          failure.errorClass === 'RECORD_FAILED'
            ? 'delivering an alert failed; skipped'
            : 'an alerts-topic message does not decode; skipped',
        )
      }
      // Done with, whatever became of it: alerts of this partition may go at once again.
      options.deliveries.finished(input.partition, BigInt(input.offset), alertIdOf(input))
      await commit.submit(message)
    },
    poll: () => commit.poll(),
    join: () => commit.join(),
    close: () => commit.close(),
  }
}

/** The alert id a message of the alerts topic carries in its header (alertMessages.ts). */
function alertIdOf(record: KafkaRecord): string | undefined {
  const header = record.headers['audit-alert-id']
  const value = Array.isArray(header) ? header[0] : header
  return value === undefined ? undefined : value.toString()
}
