import { Registry } from 'prom-client'
import { describe, expect, it, vi } from 'vitest'
import { StepInterrupted } from '@audit-pipeline/kafka'
import { createLogger } from '@audit-pipeline/service-runtime'
import type { AlertPayload } from '../alerts/alertEvent.js'
import { createAlertingMetrics } from '../metrics.js'
import type { AttemptResult } from './deliveryOutcome.js'
import { createReceiverDeliveries, type RaisedAlert } from './receiverDeliveries.js'
import { parseReceivers } from './receivers.js'
import { massDeleteAlert } from '../testSupport/alertPayloads.js'

const secret = `whsec_${Buffer.from('a test secret of 24 bytes').toString('base64')}`
const [receiver] = parseReceivers(
  'receivers:\n  - name: ops\n    url: https://ops.example.com/hooks\n    secretEnv: OPS_SECRET\n    minSeverity: warning\n',
  'receivers.yaml',
  { env: { OPS_SECRET: secret }, readFile: () => '' },
)
const log = createLogger({ service: 'alerting-test', level: 'silent' })

const payload = massDeleteAlert

const raised = (alertId: string, partition: number, severity?: AlertPayload['severity']): RaisedAlert => {
  const alert = payload(alertId, severity)
  return {
    alertId,
    routing: alert,
    partition,
    raisedAtMs: Date.now(),
    atOnce: true,
    payload: () => alert,
  }
}
const at = (partition: number, offset: number) => ({
  partition,
  offset: BigInt(offset),
  writtenAtMs: Date.now(),
})
const standing = (partition: number, from: number, end: number) => ({
  partition,
  from: BigInt(from),
  end: BigInt(end),
})
const delivered: AttemptResult = { kind: 'response', status: 204 }

/**
 * One receiver's deliveries over a fake POST: `sent` lists the `webhook-id` of every request in
 * the order made; `answer` decides each one's result (default 204 at once).
 */
function deliveriesWith(
  answer: (webhookId: string, signal: AbortSignal) => Promise<AttemptResult> = () =>
    Promise.resolve(delivered),
  limits: { queueCapacity?: number; rememberedDeliveries?: number } = {},
) {
  if (!receiver) throw new Error('the receivers file has one receiver')
  const sent: string[] = []
  const registry = new Registry()
  const deliveries = createReceiverDeliveries({
    receiver,
    post: (signed, signal) => {
      const webhookId = signed.headers['webhook-id'] ?? ''
      sent.push(webhookId)
      return answer(webhookId, signal)
    },
    policy: { initialDelayMs: 600_000, maxDelayMs: 600_000, multiplier: 2 },
    metrics: createAlertingMetrics(registry),
    log,
    now: () => Date.now(),
    ...limits,
  })
  const sentBy = async (path: string) =>
    (await registry.getSingleMetric('audit_alerting_webhook_alerts_sent_total')?.get())?.values.find(
      (value) => value.labels['path'] === path,
    )?.value ?? 0
  const consumer = new AbortController()
  /** The topic path reads the alert back at `offset` and finishes it, as webhookSteps does. */
  const readBack = async (alertId: string, partition: number, offset: number) => {
    const outcome = await deliveries.deliver(payload(alertId), at(partition, offset), consumer.signal)
    deliveries.finished(partition, BigInt(offset), alertId)
    return outcome
  }
  return { deliveries, sent, sentBy, readBack, consumer }
}

/** A POST that waits until released, per webhook id. */
function heldAnswers() {
  const waiting = new Map<string, (result: AttemptResult) => void>()
  return {
    answer: (webhookId: string) => new Promise<AttemptResult>((resolve) => waiting.set(webhookId, resolve)),
    release: (webhookId: string) => waiting.get(webhookId)?.(delivered),
  }
}

describe('receiver deliveries', () => {
  it('sends an alert at once, and the topic path reading it back waits for that delivery instead of sending again', async () => {
    const held = heldAnswers()
    const { deliveries, sent, sentBy, readBack } = deliveriesWith(held.answer)
    deliveries.backlog([standing(0, 0, 0)])
    deliveries.offer(raised('a', 0))
    await vi.waitFor(() => expect(sent).toEqual(['a']))
    // Committed and read back while the request is still in flight: it joins it.
    const reading = readBack('a', 0, 0)
    let readBackDone = false
    void deliveries.readBack().then(() => (readBackDone = true))
    held.release('a')
    await expect(reading).resolves.toBe('delivered')
    await vi.waitFor(() => expect(readBackDone).toBe(true))
    // Raised again (its events evaluated again after a failed transaction): not sent again.
    deliveries.offer(raised('a', 0))
    await expect(readBack('a', 0, 0)).resolves.toBe('delivered')
    expect(sent).toEqual(['a'])
    expect(await sentBy('at_once')).toBe(1)
    expect(await sentBy('after_commit')).toBe(0)
  })

  it('holds a partition with a backlog behind it (the topic path sends the backlog first, in order), and not the others', async () => {
    const { deliveries, sent, sentBy, readBack } = deliveriesWith()
    // Nothing is known before the consumer's first join: alerts wait.
    deliveries.offer(raised('p1-new', 1))
    deliveries.offer(raised('p0-new', 0))
    expect(sent).toEqual([])
    deliveries.backlog([standing(0, 0, 5), standing(1, 3, 3)])
    await vi.waitFor(() => expect(sent).toEqual(['p1-new']))
    // The backlog of partition 0: offsets 0 to 3 (4 is the commit marker).
    for (let offset = 0; offset < 4; offset++) await readBack(`old-${offset}`, 0, offset)
    await vi.waitFor(() => expect(sent).toEqual(['p1-new', 'old-0', 'old-1', 'old-2', 'old-3', 'p0-new']))
    expect(await sentBy('after_commit')).toBe(4)
  })

  it('an alert waiting for its partition goes as soon as the topic path reaches it', async () => {
    const { deliveries, sent, readBack } = deliveriesWith()
    deliveries.offer(raised('new', 0))
    // Written before the standing was read: it is part of the backlog, and waits for it, so the
    // topic path reaching it must send it rather than wait for it for ever.
    deliveries.backlog([standing(0, 0, 3)])
    await readBack('old', 0, 0)
    await expect(readBack('new', 0, 1)).resolves.toBe('delivered')
    expect(sent).toEqual(['old', 'new'])
  })

  it('with the queue full, an alert is declined to the topic path, and its partition waits for it: order kept', async () => {
    const held = heldAnswers()
    const { deliveries, sent, readBack } = deliveriesWith(held.answer, { queueCapacity: 1 })
    deliveries.backlog([standing(0, 0, 0), standing(1, 0, 0)])
    deliveries.offer(raised('a', 0))
    await vi.waitFor(() => expect(sent).toEqual(['a']))
    deliveries.offer(raised('b', 0))
    // The queue holds b: c and d are declined, partition 0 held after them; 1 is not.
    deliveries.offer(raised('c', 0))
    deliveries.offer(raised('d', 0))
    held.release('a')
    // b, offered before c and d were declined, is ahead of them: it goes.
    await vi.waitFor(() => expect(sent).toEqual(['a', 'b']))
    expect(await readBack('a', 0, 0)).toBe('delivered')
    held.release('b')
    expect(await readBack('b', 0, 1)).toBe('delivered')
    const readingC = readBack('c', 0, 2)
    await vi.waitFor(() => expect(sent).toEqual(['a', 'b', 'c']))
    held.release('c')
    await readingC
    // e waits in the queue behind d, which holds partition 0.
    deliveries.offer(raised('e', 0))
    const readingD = readBack('d', 0, 3)
    await vi.waitFor(() => expect(sent).toEqual(['a', 'b', 'c', 'd']))
    held.release('d')
    await readingD
    // d finished: e goes at once.
    await vi.waitFor(() => expect(sent).toEqual(['a', 'b', 'c', 'd', 'e']))
  })

  it('an alert raised after a pause goes after its commit, and holds its partition until then', async () => {
    const { deliveries, sent, readBack } = deliveriesWith()
    deliveries.backlog([standing(0, 0, 0)])
    deliveries.offer({ ...raised('after-pause', 0), atOnce: false })
    deliveries.offer(raised('next', 0))
    expect(sent).toEqual([])
    await readBack('after-pause', 0, 0)
    await vi.waitFor(() => expect(sent).toEqual(['after-pause', 'next']))
  })

  it('leaves alerts not routed to the receiver alone', async () => {
    const { deliveries, sent } = deliveriesWith()
    deliveries.backlog([standing(0, 0, 0)])
    deliveries.offer(raised('minor', 0, 'info'))
    deliveries.offer(raised('major', 0))
    await vi.waitFor(() => expect(sent).toEqual(['major']))
  })

  it('stopping: a queued alert and a retry wait end at once, as StepInterrupted for the topic path', async () => {
    const { deliveries, sent, readBack } = deliveriesWith(() =>
      Promise.resolve({ kind: 'response', status: 503 }),
    )
    deliveries.backlog([standing(0, 0, 0), standing(1, 0, 2)])
    deliveries.offer(raised('retrying', 0))
    deliveries.offer(raised('queued', 1))
    await vi.waitFor(() => expect(sent).toEqual(['retrying']))
    const retrying = readBack('retrying', 0, 0)
    await deliveries.stop(600_000)
    await expect(retrying).rejects.toBeInstanceOf(StepInterrupted)
    await expect(readBack('queued', 1, 0)).rejects.toBeInstanceOf(StepInterrupted)
    expect(sent).toEqual(['retrying'])
  })

  it('the consumer restarting mid-wait interrupts only its wait: the delivery made at once goes on', async () => {
    const held = heldAnswers()
    const { deliveries, sent, readBack, consumer } = deliveriesWith(held.answer)
    deliveries.backlog([standing(0, 0, 0)])
    deliveries.offer(raised('a', 0))
    await vi.waitFor(() => expect(sent).toEqual(['a']))
    const reading = readBack('a', 0, 0)
    consumer.abort()
    await expect(reading).rejects.toBeInstanceOf(StepInterrupted)
    held.release('a')
    // The restarted consumer reads it again: the same delivery, not another request.
    const restarted = await deliveries.deliver(payload('a'), at(0, 0), new AbortController().signal)
    expect(restarted).toBe('delivered')
    expect(sent).toEqual(['a'])
  })
})
