import { setTimeout as sleep } from 'node:timers/promises'
import type { Admin, Kafka } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { createConsumerRuntime } from '@audit-pipeline/kafka'
import type { ResolveAll } from '@audit-pipeline/outbound'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import type { AlertingConfig } from '../config.js'
import type { PartitionStanding } from '../delivery/atOnceGate.js'
import { guardedAgent } from '../delivery/guardedAgent.js'
import { postWebhook } from '../delivery/postWebhook.js'
import { createReceiverDeliveries, type RaisedAlert } from '../delivery/receiverDeliveries.js'
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
  /** The evaluator raised an alert: sent at once if routed here and nothing older of its partition waits. */
  offer(alert: RaisedAlert): void
  /**
   * Stops reading: an alert waiting to be retried is sent again after the restart. Given the
   * evaluator's own stop (its last transaction), first waits a little for what was sent at once
   * to be read back and committed, so a restart does not send it again.
   */
  stop(options?: { evaluatorStopped?: Promise<unknown> }): Promise<void>
  live(): CheckReport
  ready(): CheckReport
}

/**
 * Delivers alerts to one receiver, by two paths to one outcome per alert
 * (delivery/receiverDeliveries.ts): at once, as the evaluator raises them, and by its own
 * consumer group on the alerts topic (read_committed: only alerts whose transaction committed),
 * which commits an alert's offset once the receiver answered for it, by either path. A receiver
 * that stays down holds back only itself. The consumer runs on the consumer runtime
 * (packages/kafka), which owns the group, lag, heartbeats while an alert waits to be retried,
 * outages and restarts. Every connection goes through the receiver's address guard
 * (guardedAgent.ts).
 */
export function createWebhookDelivery(options: WebhookDeliveryOptions): WebhookDelivery {
  const { config, kafka, codec, receiver, metrics, log } = options
  const now = options.now ?? (() => Date.now())
  const groupId = `${config.groupId}-webhook-${receiver.name}`
  const dispatcher = guardedAgent(receiver.outbound, {
    connectTimeoutMs: receiver.timeoutMs,
    resolve: options.resolve,
  })
  const deliveries = createReceiverDeliveries({
    receiver,
    post: (signed, signal) =>
      postWebhook(receiver.url, signed, { timeoutMs: receiver.timeoutMs, dispatcher, signal }),
    policy: { initialDelayMs: 200, maxDelayMs: config.retryMaxDelayMs, multiplier: 2 },
    metrics,
    log,
    now,
  })
  const admin: Admin = kafka.admin()
  let adminConnected: Promise<void> | undefined

  /** Where the group stands against each partition's end: what was left to send before this start. */
  const readStanding = async (partitions: readonly number[]): Promise<PartitionStanding[]> => {
    // A failed connect is tried again at the next join.
    adminConnected ??= admin.connect().catch((error: unknown) => {
      adminConnected = undefined
      throw error
    })
    await adminConnected
    const [committed] = await admin.fetchOffsets({ groupId, topics: [config.alertsTopic] })
    const ends = await admin.fetchTopicOffsets(config.alertsTopic)
    return partitions.map((partition) => {
      const end = ends.find((offsets) => offsets.partition === partition)
      const high = BigInt(end?.high ?? '0')
      const done = committed?.partitions.find((p) => p.partition === partition)?.offset
      const from =
        done === undefined || done === '-1'
          ? config.startFrom === 'latest'
            ? high
            : BigInt(end?.low ?? '0')
          : BigInt(done)
      return { partition, from, end: high }
    })
  }

  const runtime = createConsumerRuntime({
    kafka,
    log,
    metrics: metrics.consumer,
    group: {
      groupId,
      readUncommitted: false,
      sessionTimeout: config.sessionTimeoutMs,
      maxWaitTimeInMs: 50,
    },
    subscription: { topics: [config.alertsTopic], fromBeginning: config.startFrom === 'earliest' },
    requiredTopics: { topics: [config.alertsTopic], settings: 'ALERTING_ALERTS_TOPIC' },
    outage: config.consumer.outage,
    stopDeadlineMs: config.shutdownDeadlineMs,
    ...(options.onGiveUp && { onGiveUp: options.onGiveUp }),
    onAssigned(assignment) {
      // Until it is known, alerts go by the topic path only (nothing is lost, only later).
      readStanding(assignment[config.alertsTopic] ?? [])
        .then((standings) => deliveries.backlog(standings))
        .catch((error: unknown) =>
          log.warn(
            { err: error },
            'could not read where the receiver’s consumer stands: alerts go after their commit until the next join',
          ),
        )
    },
    createSteps: (context) => webhookSteps({ receiver, codec, deliveries, metrics, log }, context),
  })

  return {
    receiver: receiver.name,
    start: () => runtime.start(),
    offer: (alert) => deliveries.offer(alert),
    async stop(stopOptions) {
      if (stopOptions?.evaluatorStopped) {
        // Bounded: an alert sent at once whose transaction failed is never read back.
        const patienceMs = Math.min(5_000, config.shutdownDeadlineMs / 2)
        const readBack = stopOptions.evaluatorStopped.catch(() => undefined).then(() => deliveries.readBack())
        await Promise.race([readBack, sleep(patienceMs, undefined, { ref: false })])
      }
      // Waits between attempts end at once; a request in flight is cut at the deadline.
      const sending = deliveries.stop(config.shutdownDeadlineMs)
      await runtime.stop()
      await sending
      await dispatcher.close()
      if (adminConnected) await admin.disconnect()
    },
    live: () => runtime.live(),
    ready: () => runtime.ready(),
  }
}
