import { StepInterrupted } from '@audit-pipeline/kafka'
import type { AlertPayload } from '../alerts/alertEvent.js'
import type { AlertingMetrics } from '../metrics.js'
import { AtOnceGate, type PartitionStanding } from './atOnceGate.js'
import { receives } from './receivers.js'
import { sendAlert, type AlertDelivery, type SendAlertOptions } from './sendAlert.js'

/** An alert as the evaluator raised it, before its transaction commits. */
export type RaisedAlert = {
  readonly alertId: string
  /** What receivers are routed by. */
  readonly routing: Pick<AlertPayload, 'rule' | 'tenant' | 'severity' | 'status'>
  /** The partition of the alerts topic it is written to. */
  readonly partition: number
  /** When it was raised, wall clock, ms: the start of its delivery time. */
  readonly raisedAtMs: number
  /** False: it goes after its commit only (the evaluator was paused, and may no longer own its work). */
  readonly atOnce: boolean
  /** The alert as receivers get it, what its copy on the alerts topic reads back as; made on first use. */
  payload(): AlertPayload
}

/** Where the topic path read an alert: its partition and offset, and when it was written (ms). */
export type ReadBackAt = { partition: number; offset: bigint; writtenAtMs: number }

export type ReceiverDeliveriesOptions = SendAlertOptions & {
  metrics: Pick<
    AlertingMetrics,
    'deliveries' | 'deliverySeconds' | 'webhookAlertsSent' | 'webhookAtOnceQueue'
  >
  /** Alerts waiting to be sent at once, at most; more are left to the topic path. Default 1000. */
  queueCapacity?: number
  /** Finished deliveries remembered by alert id, so the topic path does not send them again. Default 20000. */
  rememberedDeliveries?: number
}

export type ReceiverDeliveries = {
  /**
   * The evaluator raised an alert: if routed to this receiver, it waits in the at-once queue
   * and is sent as soon as its partition lets it (atOnceGate.ts), one request at a time, in the
   * order raised per partition; with the queue full it is left to the topic path. Never waits:
   * a receiver that is slow or down holds back only its own deliveries.
   */
  offer(alert: RaisedAlert): void
  /**
   * The topic path: an alert routed to this receiver, read back from the alerts topic. Waits for
   * the delivery made at once when there is one (sending it now if it still waits), and sends the
   * alert otherwise. `signal` is the consumer's: aborted, the wait (or a request of its own) ends
   * in StepInterrupted, and the alert is read again.
   */
  deliver(
    alert: AlertPayload,
    at: ReadBackAt,
    signal: AbortSignal,
  ): Promise<Exclude<AlertDelivery, 'not-routed'>>
  /** The topic path finished a record (delivered, refused, skipped): its partition may open. */
  finished(partition: number, offset: bigint, alertId: string | undefined): void
  /** The receiver's consumer group's standing at its first join (atOnceGate.ts). */
  backlog(standings: readonly PartitionStanding[]): void
  /**
   * Resolves once every alert sent at once was read back by the topic path (which commits past
   * it), so a restart does not send it again; stop waits for this, within a bound.
   */
  readBack(): Promise<void>
  /**
   * Sends nothing more at once: alerts waiting are left to the topic path (after the restart),
   * a wait to retry ends at once, a request in flight is cut after `deadlineMs`.
   */
  stop(deadlineMs: number): Promise<void>
}

type Sent = Exclude<AlertDelivery, 'not-routed'>

/** One delivery of one alert to this receiver, whichever path started it. */
type Delivery = {
  readonly outcome: Promise<Sent>
  /** Its place among the alerts offered (at-once deliveries only): the gate's order. */
  readonly seq?: number
  /** Waiting in the at-once queue, not sent yet. */
  queued?: Queued
  settled: boolean
  /** The topic path has read the alert back (and commits past it). */
  readBack: boolean
}

type Queued = {
  readonly alert: RaisedAlert
  readonly seq: number
  /** The topic path reached it: everything before it in its partition is finished. */
  released: boolean
  readonly settle: (outcome: Promise<Sent>) => void
}

/**
 * One receiver's deliveries, two paths to one outcome per alert: at once, from the evaluator as
 * it raises the alert (before its transaction commits: the latency is Kafka's one way, not a
 * transaction and a read_committed fetch more), and by the receiver's consumer of the alerts topic
 * after the commit, which stays the guarantee: it commits an alert's offset only once the
 * receiver answered for it, by whichever path. An alert is sent once per process whichever path
 * asks (by alert id), so the two never both send it; a restart may send again what was sent at
 * once and not yet read back, with the same `webhook-id`.
 */
export function createReceiverDeliveries(options: ReceiverDeliveriesOptions): ReceiverDeliveries {
  const { receiver, metrics } = options
  const labels = { receiver: receiver.name }
  const capacity = options.queueCapacity ?? 1_000
  const remembered = options.rememberedDeliveries ?? 20_000
  const gate = new AtOnceGate()
  /** Deliveries by alert id, oldest first; finished ones are forgotten beyond `remembered`. */
  const deliveries = new Map<string, Delivery>()
  /** Alerts offered and not sent yet, in the order offered. */
  const queue: Queued[] = []
  let offers = 0
  let sending = false
  /** Ends waits between attempts at once, and takes nothing more. */
  const stopping = new AbortController()
  /** Cuts requests sent at once that are in flight: stop's deadline. */
  const cutting = new AbortController()
  /** At-once deliveries not read back yet. */
  let unread = 0
  let readBackWaiters: (() => void)[] = []

  const noteReadBack = (delivery: Delivery) => {
    if (delivery.readBack) return
    delivery.readBack = true
    if (delivery.seq !== undefined && --unread === 0) {
      for (const wake of readBackWaiters.splice(0)) wake()
    }
  }

  const remember = (alertId: string, delivery: Delivery) => {
    deliveries.set(alertId, delivery)
    if (delivery.seq !== undefined) unread++
    if (deliveries.size <= remembered) return
    // Oldest first; one still running is kept (at most the queue and one request of the topic path).
    for (const [id, old] of deliveries) {
      if (deliveries.size <= remembered) break
      if (!old.settled) continue
      deliveries.delete(id)
      // Never read back (far behind, or its transaction failed): the topic path sends it again if it comes.
      noteReadBack(old)
    }
  }

  /** Records how a delivery ends; one that was interrupted is forgotten, to be sent again. */
  const track = (alertId: string, delivery: Delivery) => {
    delivery.outcome.then(
      () => (delivery.settled = true),
      (error: unknown) => {
        delivery.settled = true
        if (error instanceof StepInterrupted && deliveries.get(alertId) === delivery) {
          deliveries.delete(alertId)
          noteReadBack(delivery)
        }
      },
    )
    remember(alertId, delivery)
  }

  const interruptedByStop = () =>
    Promise.reject(new StepInterrupted('stopping: the alert is sent after the restart'))

  /** Sends what waits and may go, one request at a time: the first whose partition is open, or released. */
  const sendQueued = async () => {
    if (sending) return
    sending = true
    try {
      for (;;) {
        if (stopping.signal.aborted) {
          for (const waiting of queue.splice(0)) waiting.settle(interruptedByStop())
          break
        }
        const index = queue.findIndex(
          (waiting) => waiting.released || gate.open(waiting.alert.partition, waiting.seq),
        )
        if (index < 0) break
        const [next] = queue.splice(index, 1)
        if (!next) break
        metrics.webhookAtOnceQueue.set(labels, queue.length)
        // Released: its partition was held, and the topic path reached it after its commit.
        metrics.webhookAlertsSent.inc({ ...labels, path: next.released ? 'after_commit' : 'at_once' })
        const outcome = sendAlert(options, next.alert.payload(), {
          sinceMs: next.alert.raisedAtMs,
          signal: cutting.signal,
          stopping: stopping.signal,
        })
        next.settle(outcome)
        await outcome.catch(() => undefined)
      }
    } finally {
      sending = false
      metrics.webhookAtOnceQueue.set(labels, queue.length)
    }
  }
  const kick = () => {
    if (queue.length > 0) void sendQueued()
  }

  return {
    offer(alert) {
      if (stopping.signal.aborted || !receives(receiver, alert.routing)) return
      const { alertId } = alert
      // Raised again (evaluated again after a failed transaction): it has its delivery already.
      if (deliveries.has(alertId)) return
      const seq = ++offers
      if (!alert.atOnce || queue.length >= capacity) {
        gate.declined(alert.partition, alertId, seq)
        return
      }
      let settle!: (outcome: Promise<Sent>) => void
      const outcome = new Promise<Sent>((resolve) => (settle = resolve))
      // Awaited by the topic path when it reads the alert back; a failure is its to report.
      outcome.catch(() => undefined)
      const queued: Queued = {
        alert,
        seq,
        released: false,
        settle: (sent) => {
          delete delivery.queued
          settle(sent)
        },
      }
      const delivery: Delivery = { outcome, seq, queued, settled: false, readBack: false }
      track(alertId, delivery)
      queue.push(queued)
      metrics.webhookAtOnceQueue.set(labels, queue.length)
      void sendQueued()
    },

    async deliver(alert, at, signal) {
      const alertId = alert.alert_id
      let delivery = deliveries.get(alertId)
      // Everything before this record in its partition is finished.
      gate.reached(at.partition, at.offset, delivery?.seq)
      // Still waiting at once (its partition held): it goes now, in the topic path's order.
      if (delivery?.queued) delivery.queued.released = true
      kick()
      if (!delivery) {
        metrics.webhookAlertsSent.inc({ ...labels, path: 'after_commit' })
        delivery = {
          outcome: sendAlert(options, alert, { sinceMs: at.writtenAtMs, signal, stopping: stopping.signal }),
          settled: false,
          readBack: false,
        }
        track(alertId, delivery)
      }
      const outcome = await untilAborted(delivery.outcome, signal, receiver.name)
      noteReadBack(delivery)
      return outcome
    },

    finished(partition, offset, alertId) {
      gate.finished(partition, offset, alertId)
      kick()
    },

    backlog(standings) {
      gate.backlog(standings)
      kick()
    },

    readBack() {
      if (unread === 0) return Promise.resolve()
      return new Promise<void>((resolve) => readBackWaiters.push(resolve))
    },

    async stop(deadlineMs) {
      stopping.abort()
      const timer = setTimeout(() => cutting.abort(), deadlineMs)
      timer.unref()
      try {
        // The loop settles what waits as interrupted, once the request in flight ended.
        if (!sending) await sendQueued()
        await Promise.allSettled([...deliveries.values()].map((delivery) => delivery.outcome))
      } finally {
        clearTimeout(timer)
        readBackWaiters = []
      }
    },
  }
}

/** The outcome, unless `signal` aborts first: then StepInterrupted (the alert is read again). */
function untilAborted<T>(outcome: Promise<T>, signal: AbortSignal, receiver: string): Promise<T> {
  if (signal.aborted) return Promise.reject(interrupted(receiver))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(interrupted(receiver))
    signal.addEventListener('abort', onAbort, { once: true })
    outcome.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

const interrupted = (receiver: string) =>
  new StepInterrupted(`delivery to receiver ${receiver} interrupted: the alert is sent again`)
