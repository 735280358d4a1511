import type { Kafka } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { createConsumerRuntime } from '@audit-pipeline/kafka'
import type { ResolveAll } from '@audit-pipeline/outbound'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import type { AlertingConfig } from '../config.js'
import { guardedAgent } from '../delivery/guardedAgent.js'
import { postWebhook } from '../delivery/postWebhook.js'
import type { Receiver } from '../delivery/receivers.js'
import type { AlertingMetrics } from '../metrics.js'
import { webhookSteps } from './webhookSteps.js'

export type WebhookDeliveryOptions = {
  config: AlertingConfig
  kafka: Kafka
  codec: AuditEventCodec
  receiver: Receiver
  metrics: AlertingMetrics
  log: Logger
  now?: () => number
  /** The resolver behind the receiver's address check on every connect; tests give their own. */
  resolve?: ResolveAll
  /** The consumer failed for longer than KAFKA_OUTAGE_GIVE_UP_MS (never, by default). */
  onGiveUp?: (error: unknown) => void
}

export type WebhookDelivery = {
  readonly receiver: string
  start(): Promise<void>
  /** Stops reading: an alert waiting to be retried is sent again after the restart. */
  stop(): Promise<void>
  live(): CheckReport
  ready(): CheckReport
}

/**
 * Delivers alerts to one receiver: its own consumer group on the alerts topic (read_committed:
 * only alerts whose transaction committed), so a receiver that stays down holds back only itself,
 * on the consumer runtime (packages/kafka), which owns the group, lag, heartbeats while an alert
 * waits to be retried, outages and restarts. The steps (webhookSteps.ts) send and commit. Every
 * connection goes through the receiver's address guard (guardedAgent.ts).
 */
export function createWebhookDelivery(options: WebhookDeliveryOptions): WebhookDelivery {
  const { config, kafka, codec, receiver, metrics, log } = options
  const now = options.now ?? (() => Date.now())
  const stopping = new AbortController()
  const dispatcher = guardedAgent(receiver.outbound, {
    connectTimeoutMs: receiver.timeoutMs,
    resolve: options.resolve,
  })

  const runtime = createConsumerRuntime({
    kafka,
    log,
    metrics: metrics.consumer,
    group: {
      groupId: `${config.groupId}-webhook-${receiver.name}`,
      readUncommitted: false,
      sessionTimeout: config.sessionTimeoutMs,
      maxWaitTimeInMs: 50,
    },
    subscription: { topics: [config.alertsTopic], fromBeginning: config.startFrom === 'earliest' },
    requiredTopics: { topics: [config.alertsTopic], settings: 'ALERTING_ALERTS_TOPIC' },
    outage: config.consumer.outage,
    stopDeadlineMs: config.shutdownDeadlineMs,
    ...(options.onGiveUp && { onGiveUp: options.onGiveUp }),
    createSteps: (context) =>
      webhookSteps(
        {
          receiver,
          codec,
          post: (signed, signal) =>
            postWebhook(receiver.url, signed, { timeoutMs: receiver.timeoutMs, dispatcher, signal }),
          policy: { initialDelayMs: 200, maxDelayMs: config.retryMaxDelayMs, multiplier: 2 },
          metrics,
          log,
          now,
          stopping: stopping.signal,
        },
        context,
      ),
  })

  return {
    receiver: receiver.name,
    start: () => runtime.start(),
    async stop() {
      stopping.abort()
      await runtime.stop()
      await dispatcher.close()
    },
    live: () => runtime.live(),
    ready: () => runtime.ready(),
  }
}
