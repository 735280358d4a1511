import { setTimeout as sleep } from 'node:timers/promises'
import { StepInterrupted } from '@audit-pipeline/kafka'
import type { BackoffPolicy, Logger } from '@audit-pipeline/service-runtime'
import type { AlertPayload } from '../alerts/alertEvent.js'
import type { AlertingMetrics } from '../metrics.js'
import { decideDelivery, retryDelayMs, type AttemptResult } from './deliveryOutcome.js'
import type { Receiver } from './receivers.js'
import { signedRequest, type SignedRequest } from './signedRequest.js'

/** What became of one alert for one receiver. */
export type AlertDelivery = 'delivered' | 'rejected' | 'refused' | 'failed' | 'not-routed'

export type SendAlertOptions = {
  receiver: Receiver
  /** One POST to the receiver (delivery/postWebhook.ts); throws only when `signal` aborted it. */
  post: (signed: SignedRequest, signal: AbortSignal) => Promise<AttemptResult>
  /** Waits between attempts: 200 ms doubling up to ALERTING_RETRY_MAX_DELAY_MS. */
  policy: BackoffPolicy
  metrics: Pick<AlertingMetrics, 'deliveries' | 'deliverySeconds'>
  log: Logger
  now: () => number
}

/**
 * Sends one alert to one receiver until it is delivered (2xx), rejected (another 4xx), refused
 * (the address guard: nothing sent) or out of attempts, signing each attempt anew; logs and
 * counts every attempt. `signal` aborts a request in flight and a wait (a restart, stop's
 * deadline); `stopping` ends a wait between attempts at once (the service stops). Either throws
 * StepInterrupted: the alert is neither delivered nor given up on, and is sent again later with
 * the same `webhook-id`. `sinceMs` is when the alert was raised or written, for the delivery time.
 */
export async function sendAlert(
  options: SendAlertOptions,
  alert: AlertPayload,
  context: { sinceMs: number; signal: AbortSignal; stopping: AbortSignal },
): Promise<Exclude<AlertDelivery, 'not-routed'>> {
  const { receiver, metrics, log, now } = options
  const labels = { receiver: receiver.name }
  const interruptedIf = () => {
    if (context.signal.aborted || context.stopping.aborted) {
      throw new StepInterrupted(`delivery to receiver ${receiver.name} interrupted: the alert is sent again`)
    }
  }
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
      metrics.deliverySeconds.observe(labels, Math.max(0, now() - context.sinceMs) / 1000)
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
    await sleep(delayMs, undefined, {
      signal: AbortSignal.any([context.signal, context.stopping]),
    }).catch(() => undefined)
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
