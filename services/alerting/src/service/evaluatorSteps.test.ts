import kafkajs, { type Producer, type Transaction } from 'kafkajs'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { committableOf, fakeRuntimeContext, type KafkaRecord } from '@audit-pipeline/kafka'
import { createLogger } from '@audit-pipeline/service-runtime'
import { createAlertEngine } from '../engine/alertEngine.js'
import { createAlertingMetrics } from '../metrics.js'
import { parseRules } from '../rules/parseRules.js'
import { auditEvent } from '../testSupport/auditEvents.js'
import type { RaisedAlert } from '../delivery/receiverDeliveries.js'
import { createEvaluatorSteps } from './evaluatorSteps.js'

const { KafkaJSConnectionError, KafkaJSProtocolError } = kafkajs
const log = createLogger({ service: 'alerting-test', level: 'silent' })
const rules = parseRules(
  'rules:\n  - id: every-delete\n    kind: match\n    severity: warning\n    filter: event.action.kind == "delete"\n',
  'rules.yaml',
)
const t0 = Date.parse('2026-03-02T09:00:00Z')
const fenced = () =>
  new KafkaJSProtocolError(
    Object.assign(new Error('old epoch'), { type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false }),
  )

/**
 * One generation of the evaluator's steps over a fake producer: `transactions` records what each
 * transaction did, in order; `failWith` makes the next transaction's step of that name throw.
 */
function evaluatorWith(options: { pauseMs?: number } = {}) {
  const { context, calls } = fakeRuntimeContext(log)
  const transactions: string[][] = []
  const failWith: { step?: 'sendBatch' | 'sendOffsets'; error?: Error } = {}
  const producer: Pick<Producer, 'transaction'> = {
    transaction: () => {
      const done: string[] = []
      transactions.push(done)
      const step = (name: string) => {
        if (failWith.step === name && failWith.error) {
          const error = failWith.error
          delete failWith.step
          return Promise.reject(error)
        }
        done.push(name)
        return Promise.resolve()
      }
      return Promise.resolve({
        sendBatch: ({ topicMessages = [] }) =>
          step('sendBatch').then(() => {
            done.push(...topicMessages.map(({ topic, messages }) => `${topic}: ${messages.length}`))
            return []
          }),
        sendOffsets: ({ topics }) =>
          step('sendOffsets').then(() =>
            done.push(
              `offsets ${topics.flatMap((t) => t.partitions.map((p) => `${t.topic}/${p.partition}@${p.offset}`)).join(' ')}`,
            ),
          ),
        commit: () => step('commit'),
        abort: () => step('abort'),
        send: () => Promise.reject(new Error('not used')),
        isActive: () => true,
      } as Transaction)
    },
  }
  const events = new Map<string, AuditEvent>()
  const raised: RaisedAlert[] = []
  const fencings: unknown[] = []
  const { steps, joined } = createEvaluatorSteps(
    {
      engine: createAlertEngine({
        rules,
        allowedLatenessMs: 60_000,
        maxGroupsPerRule: 100,
        maxEntities: 100,
        checkIntervalMs: 1_000,
      }),
      producer,
      codec: {
        decode: (value) => Promise.resolve(events.get(value.toString()) as AuditEvent),
        encode: (event) => Buffer.from(event.event_id),
      },
      topics: { alerts: 'alerts', state: 'state', deadLetters: 'dlq' },
      partitions: { alerts: 3, state: 1 },
      groupId: 'evaluator',
      // Only join commits here: no transaction is due by time.
      commitIntervalMs: 3_600_000,
      pauseMs: options.pauseMs ?? 30_000,
      source: { instance: 'test', version: null },
      metrics: createAlertingMetrics(new Registry()),
      log,
      now: () => t0,
      assignment: () => Promise.resolve(),
      takeRules: () => undefined,
      onFenced: (error) => fencings.push(error),
      onRaised: (alerts) => raised.push(...alerts),
    },
    context,
  )
  let offset = 0
  const submitDelete = async () => {
    const event = auditEvent({ at: t0 + offset * 1_000, kind: 'delete', object: { id: `T-${offset}` } })
    events.set(event.event_id, event)
    const record: KafkaRecord = {
      topic: 'in',
      partition: 0,
      offset: String(offset++),
      key: null,
      value: Buffer.from(event.event_id),
      headers: {},
      timestamp: String(t0),
      highWatermark: '100',
    }
    await steps.submit({ payload: record, committable: committableOf(record) })
  }
  return { steps, joined, submitDelete, transactions, failWith, fencings, calls, raised }
}

describe('evaluator steps', () => {
  it('commits the alerts, the state changes and the input offsets in one transaction', async () => {
    const evaluator = evaluatorWith()
    await evaluator.submitDelete()
    await evaluator.submitDelete()
    await evaluator.steps.join()
    expect(evaluator.transactions).toEqual([
      ['sendBatch', 'alerts: 2', 'state: 1', 'sendOffsets', 'offsets in/0@2', 'commit'],
    ])
    // Committed by its own means: the runtime's commit is not used, its progress is told.
    expect(evaluator.calls).toEqual(['while schema registry', 'while schema registry', 'committed elsewhere'])
  })

  it('a failed transaction is aborted and fails every later call: nothing after it is committed', async () => {
    const evaluator = evaluatorWith()
    const lost = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED')
    Object.assign(evaluator.failWith, { step: 'sendOffsets', error: lost })
    await evaluator.submitDelete()
    await expect(evaluator.steps.join()).rejects.toBe(lost)
    expect(evaluator.transactions).toEqual([['sendBatch', 'alerts: 1', 'state: 1', 'abort']])
    // The runtime restarts from the last commit on the next call; nothing more goes out.
    await expect(evaluator.submitDelete()).rejects.toBe(lost)
    await expect(evaluator.steps.poll()).rejects.toBe(lost)
    await evaluator.steps.close()
    expect(evaluator.transactions).toHaveLength(1)
    expect(evaluator.fencings).toEqual([])
  })

  it('a fenced producer stops the evaluator: onFenced, no abort, and a stop commits nothing', async () => {
    const evaluator = evaluatorWith()
    const error = fenced()
    Object.assign(evaluator.failWith, { step: 'sendBatch', error })
    await evaluator.submitDelete()
    await expect(evaluator.steps.join()).rejects.toBe(error)
    expect(evaluator.fencings).toEqual([error])
    expect(evaluator.transactions).toEqual([[]])
    // What stop asks for: nothing is committed by a zombie.
    await expect(evaluator.steps.join()).resolves.toBeUndefined()
    expect(evaluator.transactions).toHaveLength(1)
  })

  it('joining the group again with events not committed fails the steps: the offsets went back', async () => {
    const evaluator = evaluatorWith()
    evaluator.joined()
    await evaluator.submitDelete()
    evaluator.joined()
    await expect(evaluator.submitDelete()).rejects.toThrow(
      /joined again with evaluated events not yet committed/,
    )
    // With everything committed, a rejoin reads on from where memory is.
    const committed = evaluatorWith()
    committed.joined()
    await committed.submitDelete()
    await committed.steps.join()
    committed.joined()
    await committed.submitDelete()
    await committed.steps.join()
    expect(committed.transactions.map((done) => done.find((step) => step.startsWith('offsets')))).toEqual([
      'offsets in/0@1',
      'offsets in/0@2',
    ])
  })

  it('hands the alerts to the receivers at the end of the fetched batch, before their transaction, in the partition it writes them to', async () => {
    const evaluator = evaluatorWith()
    await evaluator.submitDelete()
    await evaluator.submitDelete()
    expect(evaluator.raised).toEqual([])
    await evaluator.steps.poll()
    expect(evaluator.transactions).toEqual([])
    expect(evaluator.raised.map((alert) => alert.atOnce)).toEqual([true, true])
    // Raised together by one rule: one group, as the transaction writes them.
    expect(evaluator.raised.map((alert) => alert.payload().group_size)).toEqual([2, 2])
    await evaluator.steps.join()
    const [first] = evaluator.raised
    expect(first?.partition).toBeGreaterThanOrEqual(0)
    expect(first?.partition).toBeLessThan(3)
  })

  afterEach(() => vi.useRealTimers())

  it('after a pause longer than the session timeout, alerts wait for their commit until a transaction commits', async () => {
    vi.useFakeTimers({ toFake: ['performance'] })
    const evaluator = evaluatorWith({ pauseMs: 30_000 })
    await evaluator.submitDelete()
    await evaluator.steps.poll()
    // SIGSTOP, another instance meanwhile, SIGCONT: this one may no longer own its work.
    vi.advanceTimersByTime(60_000)
    await evaluator.submitDelete()
    await evaluator.steps.poll()
    expect(evaluator.raised.map((alert) => alert.atOnce)).toEqual([true, false])
    // A transaction committed: it still owns the transactional id.
    await evaluator.steps.join()
    await evaluator.submitDelete()
    await evaluator.steps.poll()
    expect(evaluator.raised.map((alert) => alert.atOnce)).toEqual([true, false, true])
  })
})
