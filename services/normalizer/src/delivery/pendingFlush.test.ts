import type { Message } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import type { PlannedOutput, RecordPlan } from '../pipeline/planRecord.js'
import { createPendingFlush } from './pendingFlush.js'

function output(topic: string, route: string, key: string, value: string): PlannedOutput {
  return {
    topic,
    route,
    key: Buffer.from(key),
    value: Buffer.from(value),
    headers: { 'audit-route': Buffer.from(route) },
  }
}

function outputsPlan(
  outputs: PlannedOutput[],
  more: Partial<Extract<RecordPlan, { kind: 'outputs' }>> = {},
): RecordPlan {
  return { kind: 'outputs', outputs, sent: [], dropped: [], duplicates: 0, reduced: [], ...more }
}

const deadLetterPlan: RecordPlan = {
  kind: 'dead-letter',
  cause: {
    errorClass: 'INPUT_REJECTED',
    reason: 'NOT_JSON',
    message: 'input: (value): is not UTF-8 JSON text',
  },
}

/** A dead letter as buildDeadLetter makes it: the original key and value, headers naming the error. */
const deadLetter: Message = {
  key: Buffer.from('k1'),
  value: Buffer.from('not json'),
  headers: { 'audit-dlq-error-class': 'INPUT_REJECTED', origin: Buffer.from('web') },
}

/** Output bytes as counted for the flush limit: UTF-8 key, value and 64 bytes for the header and record overhead. */
const outputBytes = (o: PlannedOutput) => o.key.length + o.value.length + 64

describe('createPendingFlush', () => {
  it('starts empty', () => {
    const pending = createPendingFlush()
    expect([pending.bytes, pending.records, pending.lastOffset]).toEqual([0, 0, undefined])
    expect(pending.topicMessages('audit.dlq')).toEqual([])
    expect(pending.sent).toEqual([])
  })

  it('counts the bytes, records, last offset and timestamps of what it takes', () => {
    const pending = createPendingFlush()
    const a = output('audit.normalized', 'default', 'witify/ticket/1-é', '{"a":1}') // é: 2 bytes in UTF-8
    const b = output('audit.normalized', 'security', 'witify/session/22', '{"bb":22}')
    const c = output('audit.forward', 'security', 'witify/session/22', '{"bb":22}')
    pending.add('41', 1_000, outputsPlan([a], { sent: [{ key: 'k1', value: Buffer.from('v1') }] }))
    pending.add('42', 2_000, outputsPlan([b, c], { sent: [{ key: 'k2', value: Buffer.from('v2') }] }))
    pending.add('43', 3_000, { kind: 'skipped', reason: 'TOMBSTONE' })
    expect(pending.bytes).toBe(outputBytes(a) + outputBytes(b) + outputBytes(c))
    expect(pending.records).toBe(3)
    expect(pending.lastOffset).toBe('43')
    expect(pending.timestampsMs).toEqual([1_000, 2_000, 3_000])
    expect(pending.sent).toEqual([
      { key: 'k1', value: Buffer.from('v1') },
      { key: 'k2', value: Buffer.from('v2') },
    ])
  })

  it('counts a dead letter’s key, value and header bytes', () => {
    const pending = createPendingFlush()
    pending.add('7', 0, deadLetterPlan, deadLetter)
    const headerBytes =
      'audit-dlq-error-class'.length + 'INPUT_REJECTED'.length + 'origin'.length + 'web'.length
    expect(pending.bytes).toBe('k1'.length + 'not json'.length + 64 + headerBytes)
    expect(pending.lastOffset).toBe('7')
  })

  it('refuses a dead-letter plan without its message', () => {
    expect(() => createPendingFlush().add('7', 0, deadLetterPlan)).toThrow(/needs its dead-letter message/)
  })

  it('groups messages by topic in the order taken, dead letters last on the dead-letter topic', () => {
    const pending = createPendingFlush()
    const a1 = output('audit.normalized', 'default', 'k/a', 'a1')
    const f1 = output('audit.forward', 'security', 'k/f', 'f1')
    const a2 = output('audit.normalized', 'security', 'k/f', 'a2')
    const a3 = output('audit.normalized', 'default', 'k/b', 'a3')
    pending.add('1', 0, deadLetterPlan, deadLetter) // first taken, still sent last
    pending.add('2', 0, outputsPlan([a1]))
    pending.add('3', 0, outputsPlan([f1, a2]))
    pending.add('4', 0, outputsPlan([a3]))
    const message = (o: PlannedOutput) => ({ key: o.key, value: o.value, headers: o.headers })
    expect(pending.topicMessages('audit.dlq')).toEqual([
      { topic: 'audit.normalized', messages: [a1, a2, a3].map(message) },
      { topic: 'audit.forward', messages: [message(f1)] },
      { topic: 'audit.dlq', messages: [deadLetter] },
    ])
  })

  it('tallies produced, dropped, skipped, dead-lettered and duplicates', () => {
    const pending = createPendingFlush()
    pending.add(
      '10',
      0,
      outputsPlan(
        [
          output('audit.normalized', 'security', 'k', 'v'),
          output('audit.forward', 'security', 'k', 'v'),
          output('audit.normalized', 'default', 'k2', 'v2'),
        ],
        { dropped: [{ route: 'drop-debug', reason: 'debug events are not kept' }], duplicates: 2 },
      ),
    )
    pending.add(
      '11',
      0,
      outputsPlan([output('audit.normalized', 'security', 'k3', 'v3')], {
        duplicates: 1,
        reduced: [{ temporal: 1, informative: 3 }],
      }),
    )
    pending.add(
      '12',
      0,
      outputsPlan([], { dropped: [{ route: 'drop-debug', reason: 'debug events are not kept' }] }),
    )
    pending.add('13', 0, { kind: 'skipped', reason: 'TOMBSTONE' })
    pending.add('14', 0, { kind: 'skipped', reason: 'TOMBSTONE' })
    pending.add('15', 0, { kind: 'skipped', reason: 'HEARTBEAT' })
    pending.add('16', 0, deadLetterPlan, deadLetter)
    pending.add(
      '17',
      0,
      { kind: 'dead-letter', cause: { errorClass: 'EVENT_TOO_LARGE', message: 'big' } },
      deadLetter,
    )
    pending.add('18', 0, deadLetterPlan, deadLetter)

    const { tally } = pending
    expect(tally.records).toBe(9)
    expect(Object.fromEntries(tally.produced)).toEqual({
      'security\taudit.normalized': 2,
      'security\taudit.forward': 1,
      'default\taudit.normalized': 1,
    })
    expect(Object.fromEntries(tally.dropped)).toEqual({ 'drop-debug\tdebug events are not kept': 2 })
    expect(Object.fromEntries(tally.skipped)).toEqual({ TOMBSTONE: 2, HEARTBEAT: 1 })
    expect(Object.fromEntries(tally.deadLettered)).toEqual({ INPUT_REJECTED: 2, EVENT_TOO_LARGE: 1 })
    expect(tally.duplicates).toBe(3)
    expect(Object.fromEntries(tally.reduced)).toEqual({ '1\t3': 1 })
  })

  it('lists the events it sends, not those dropped or counted as duplicates', () => {
    const pending = createPendingFlush()
    pending.add(
      '1',
      0,
      outputsPlan([output('audit.normalized', 'default', 'k', 'v')], {
        sent: [{ key: 'sent', value: Buffer.from('v') }],
      }),
    )
    pending.add(
      '2',
      0,
      outputsPlan([], { dropped: [{ route: 'drop-debug', reason: 'debug' }], duplicates: 1 }),
    )
    expect(pending.sent).toEqual([{ key: 'sent', value: Buffer.from('v') }])
    // A new flush starts without them.
    expect(createPendingFlush().sent).toEqual([])
  })
})
