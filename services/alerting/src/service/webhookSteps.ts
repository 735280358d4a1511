import { setTimeout as sleep } from 'node:timers/promises'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import {
  commitOffsets,
  runTask,
  StepInterrupted,
  type KafkaRecord,
  type Processed,
  type ProcessingStep,
  type RuntimeContext,
  registryOutage,
} from '@audit-pipeline/kafka'
import type { BackoffPolicy, Logger } from '@audit-pipeline/service-runtime'
import { alertPayloadOf } from '../alerts/alertEvent.js'
import { decideDelivery, retryDelayMs, type AttemptResult } from '../delivery/deliveryOutcome.js'
import { receives, type Receiver } from '../delivery/receivers.js'
import { signedRequest, type SignedRequest } from '../delivery/signedRequest.js'
import type { AlertingMetrics } from '../metrics.js'

export type WebhookStepsOptions = {
  receiver: Receiver
  codec: Pick<AuditEventCodec, 'decode'>
  /** One POST to the receiver (delivery/postWebhook.ts); throws only when `signal` aborted it. */
  post: (signed: SignedRequest, signal: AbortSignal) => Promise<AttemptResult>
  /** Waits between attempts: 200 ms doubling up to ALERTING_RETRY_MAX_DELAY_MS. */
  policy: BackoffPolicy
  metrics: Pick<AlertingMetrics, 'deliveries' | 'deliverySeconds'>
  log: Logger
  now: () => number
  /**
   * Aborted when the service stops: a wait before the next attempt ends at once (the alert is
   * sent again after the restart). A request in flight goes on until the runtime's signal aborts
   * it, at stop's deadline.
   */
  stopping: AbortSignal
}

/** What became of one alert for this receiver. */
export type AlertDelivery = 'delivered' | 'rejected' | 'refused' | 'failed' | 'not-routed'

/**
 * One receiver's steps on the consumer runtime: decode each alert and send it until delivered,
 * refused, or out of attempts (runTask: whatever else one alert does is that alert's failure) →
 * commit the offset after it. At least once, in order per partition: an alert's offset is
 * committed only once the receiver answered for it. Stopping or restarting mid-retry throws
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
  const { receiver, metrics, log, now } = options
  const labels = { receiver: receiver.name }
  const interruptedIf = () => {
    if (context.signal.aborted || options.stopping.aborted) {
      throw new StepInterrupted(`delivery to receiver ${receiver.name} interrupted: the alert is sent again`)
    }
  }
  return async (record) => {
    const { value } = record
    // A tombstone holds no alert.
    if (value === null) return 'not-routed'
    // An alert that does not decode throws: not an alert this service wrote (commitDelivered).
    const event = await context.whileUnavailable(registryOutage, () => options.codec.decode(value))
    const alert = alertPayloadOf(event)
    if (!alert || !receives(receiver, alert)) return 'not-routed'
    const producedAt = Number(record.timestamp)
    for (let attempt = 0; ; attempt++) {
      interruptedIf()
      const started = now()
      const signed = signedRequest(alert, receiver.signer, new Date(started))
      let result: AttemptResult
      try {
        result = await options.post(signed, context.signal)
      } catch (error) {
        interruptedIf()
        throw error
      }
      const decision = decideDelivery(result, now())
      const entry = {
        alertId: alert.alert_id,
        rule: alert.rule,
        attempt: attempt + 1,
        result: attemptLabel(result),
        ms: now() - started,
      }
      if (decision.outcome === 'refused') {
        metrics.deliveries.inc({ ...labels, status: 'refused' })
        log.error(
          { ...entry, outcome: 'refused', address: decision.address },
          `webhook not sent: receiver ${receiver.name}: ${decision.message}`,
        )
        return 'refused'
      }
      if (decision.outcome === 'delivered') {
        metrics.deliveries.inc({ ...labels, status: 'delivered' })
        metrics.deliverySeconds.observe(labels, Math.max(0, now() - producedAt) / 1000)
        log.info({ ...entry, outcome: 'delivered' }, 'webhook delivery')
        return 'delivered'
      }
      if (decision.outcome === 'rejected') {
        metrics.deliveries.inc({ ...labels, status: 'rejected' })
        log.error(
          { ...entry, outcome: 'rejected' },
          'webhook delivery refused by the receiver (4xx): not retried',
        )
        return 'rejected'
      }
      if (receiver.maxAttempts > 0 && attempt + 1 >= receiver.maxAttempts) {
        metrics.deliveries.inc({ ...labels, status: 'failed' })
        log.error({ ...entry, outcome: 'failed' }, 'webhook delivery failed: out of attempts')
        return 'failed'
      }
      const delayMs = retryDelayMs(attempt, decision, options.policy)
      metrics.deliveries.inc({ ...labels, status: 'retried' })
      log.warn({ ...entry, outcome: 'retry', delayMs: Math.round(delayMs) }, 'webhook delivery')
      // The runtime heartbeats meanwhile, so the group keeps the receiver's partitions.
      await sleep(delayMs, undefined, {
        signal: AbortSignal.any([context.signal, options.stopping]),
      }).catch(() => undefined)
    }
  }
}

/**
 * The last step: the offset after each alert the receiver answered for (or that is not the
 * receiver's). A message on the alerts topic that does not decode is not an alert this service
 * wrote: nothing to deliver, and reading it again would not help; it is counted as failed,
 * logged and skipped, as is an alert whose delivery threw (a bug).
 */
function commitDelivered(
  options: Pick<WebhookStepsOptions, 'receiver' | 'metrics' | 'log'>,
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
      await commit.submit(message)
    },
    poll: () => commit.poll(),
    join: () => commit.join(),
    close: () => commit.close(),
  }
}

/** An attempt's `result` in the delivery log: the status, or what kept it from having one. */
function attemptLabel(result: AttemptResult): number | string {
  switch (result.kind) {
    case 'response':
      return result.status
    case 'timeout':
      return 'timeout'
    case 'network':
      return result.code
    case 'refused':
      return 'ADDRESS_REFUSED'
  }
}
