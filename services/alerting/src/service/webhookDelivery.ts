import { setTimeout as sleep } from 'node:timers/promises'
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs'
import { CodecError, type AuditEventCodec } from '@audit-pipeline/codec'
import type { ResolveAll } from '@audit-pipeline/outbound'
import type { BackoffPolicy, CheckReport, Logger } from '@audit-pipeline/service-runtime'
import { alertPayloadOf } from '../alerts/alertEvent.js'
import type { AlertingConfig } from '../config.js'
import { decideDelivery, retryDelayMs, type AttemptResult } from '../delivery/deliveryOutcome.js'
import { guardedAgent } from '../delivery/guardedAgent.js'
import { postWebhook } from '../delivery/postWebhook.js'
import { receives, type Receiver } from '../delivery/receivers.js'
import { signedRequest } from '../delivery/signedRequest.js'
import type { AlertingMetrics } from '../metrics.js'

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
}

/** While waiting to retry, heartbeat this often so the group keeps the receiver's partitions. */
const heartbeatEveryMs = 2_000

/**
 * Delivers alerts to one receiver: its own consumer group on the alerts topic (read_committed:
 * only alerts whose batch committed), so a receiver that stays down holds back only itself. An
 * alert's offset is committed once the receiver answered 2xx (or refused it for good), so alerts
 * reach each receiver at least once, in order per partition; `webhook-id` lets it drop a repeat.
 * Every connection goes through the receiver's address guard (guardedAgent.ts).
 */
export function createWebhookDelivery(options: WebhookDeliveryOptions) {
  const { config, kafka, codec, receiver, metrics, log } = options
  const now = options.now ?? (() => Date.now())
  const stopping = new AbortController()
  const policy: BackoffPolicy = { initialDelayMs: 200, maxDelayMs: config.retryMaxDelayMs, multiplier: 2 }
  const state = { joined: false, crashed: undefined as string | undefined, retrying: false }
  const dispatcher = guardedAgent(receiver.outbound, {
    connectTimeoutMs: receiver.timeoutMs,
    resolve: options.resolve,
  })
  const consumer: Consumer = kafka.consumer({
    groupId: `${config.groupId}-webhook-${receiver.name}`,
    readUncommitted: false,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.floor(config.sessionTimeoutMs / 10),
    maxWaitTimeInMs: 50,
    allowAutoTopicCreation: false,
  })
  consumer.on(consumer.events.GROUP_JOIN, () => (state.joined = true))
  consumer.on(consumer.events.REBALANCING, () => (state.joined = false))
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    state.joined = false
    log.error({ err: payload.error, receiver: receiver.name }, 'webhook consumer crashed')
    if (!payload.restart) state.crashed = payload.error.message
  })

  const waitBeforeRetry = async (delayMs: number, heartbeat: () => Promise<void>) => {
    const until = now() + delayMs
    while (!stopping.signal.aborted && now() < until) {
      await sleep(Math.min(heartbeatEveryMs, Math.max(0, until - now())), undefined, {
        signal: stopping.signal,
      }).catch(() => undefined)
      await heartbeat()
    }
  }

  /** Sends one alert until delivered, refused, out of attempts or stopping. */
  const deliver = async (payload: EachMessagePayload): Promise<'done' | 'stopped'> => {
    const { message } = payload
    if (message.value === null) return 'done'
    let alert
    try {
      alert = alertPayloadOf(await codec.decode(message.value))
    } catch (error) {
      if (!(error instanceof CodecError) || error.retriable) throw error
      // Not an alert this service wrote: nothing to deliver, and re-reading it would not help.
      metrics.deliveries.inc({ receiver: receiver.name, status: 'failed' })
      log.error(
        { err: error, offset: payload.message.offset, partition: payload.partition },
        'an alerts-topic message does not decode; skipped',
      )
      return 'done'
    }
    if (!alert || !receives(receiver, alert)) return 'done'
    const producedAt = Number(message.timestamp)
    for (let attempt = 0; ; attempt++) {
      if (stopping.signal.aborted) return 'stopped'
      const started = now()
      const signed = signedRequest(alert, receiver.signer, new Date(started))
      let result
      try {
        result = await postWebhook(receiver.url, signed, {
          timeoutMs: receiver.timeoutMs,
          dispatcher,
          signal: stopping.signal,
        })
      } catch {
        return 'stopped'
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
        metrics.deliveries.inc({ receiver: receiver.name, status: 'refused' })
        log.error(
          { ...entry, outcome: 'refused', address: decision.address },
          `webhook not sent: receiver ${receiver.name}: ${decision.message}`,
        )
        return 'done'
      }
      if (decision.outcome === 'delivered') {
        metrics.deliveries.inc({ receiver: receiver.name, status: 'delivered' })
        metrics.deliverySeconds.observe({ receiver: receiver.name }, Math.max(0, now() - producedAt) / 1000)
        log.info({ ...entry, outcome: 'delivered' }, 'webhook delivery')
        state.retrying = false
        return 'done'
      }
      if (decision.outcome === 'rejected') {
        metrics.deliveries.inc({ receiver: receiver.name, status: 'rejected' })
        log.error(
          { ...entry, outcome: 'rejected' },
          'webhook delivery refused by the receiver (4xx): not retried',
        )
        return 'done'
      }
      if (receiver.maxAttempts > 0 && attempt + 1 >= receiver.maxAttempts) {
        metrics.deliveries.inc({ receiver: receiver.name, status: 'failed' })
        log.error({ ...entry, outcome: 'failed' }, 'webhook delivery failed: out of attempts')
        return 'done'
      }
      const delayMs = retryDelayMs(attempt, decision, policy)
      metrics.deliveries.inc({ receiver: receiver.name, status: 'retried' })
      log.warn({ ...entry, outcome: 'retry', delayMs: Math.round(delayMs) }, 'webhook delivery')
      state.retrying = true
      await waitBeforeRetry(delayMs, () => payload.heartbeat())
    }
  }

  return {
    receiver: receiver.name,
    async start() {
      await consumer.connect()
      await consumer.subscribe({
        topics: [config.alertsTopic],
        fromBeginning: config.startFrom === 'earliest',
      })
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 3,
        eachMessage: async (payload) => {
          const outcome = await deliver(payload)
          if (outcome === 'stopped') {
            // Not delivered: the next run starts from this alert. Pausing keeps kafkajs from reading on.
            consumer.pause([{ topic: payload.topic, partitions: [payload.partition] }])
            return
          }
          await consumer.commitOffsets([
            {
              topic: payload.topic,
              partition: payload.partition,
              offset: String(BigInt(payload.message.offset) + 1n),
            },
          ])
        },
      })
    },
    async stop() {
      stopping.abort()
      await consumer.stop()
      await consumer.disconnect()
      await dispatcher.close()
    },
    live: (): CheckReport =>
      state.crashed ? { ok: false, details: { crashed: state.crashed } } : { ok: true },
    ready: (): CheckReport =>
      state.joined ? { ok: true } : { ok: false, details: { receiver: receiver.name, joined: false } },
  }
}

export type WebhookDelivery = ReturnType<typeof createWebhookDelivery>

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
