import type { Message } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { CodecError } from '@audit-pipeline/codec'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import type { KafkaRecord, PartitionOffset } from '@audit-pipeline/kafka'
import { committableOf, fakeRuntimeContext } from '@audit-pipeline/kafka'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { createLogger } from '@audit-pipeline/service-runtime'
import { ClickHouseError } from '@audit-pipeline/storage'
import { genesisHead } from '@audit-pipeline/integrity'
import { chainKeyOf } from '../integrity/chainState.js'
import { eventKeyOf, identityOf } from '../integrity/eventIdentity.js'
import { temporalLevelHeader } from './rowTarget.js'
import { sinkSteps, type SinkTelemetry } from './sinkSteps.js'
import type { StoredRow, StoredRowsQuery } from './storedRows.js'

const template: AuditEvent = {
  ...parseEventJson(JSON.parse(ticketExampleLines()[0]!)),
  recorded_at: Date.parse('2024-03-16T13:12:01Z'),
}
const eventIds = [0, 1, 2, 3, 4].map((i) => `00000000-0000-4000-8000-00000000000${i}`)

/** Record `i` of partition 0 holds event `i`; a value of `bad` is no event at all. */
const record = (offset: number, value = String(offset)): KafkaRecord => ({
  topic: 't',
  partition: 0,
  offset: String(offset),
  key: null,
  value: Buffer.from(value),
  headers: {},
  timestamp: '0',
})
/** The same, marked by the normalizer as an event of a record kept at temporal level 1. */
const marked = (offset: number, value = String(offset)): KafkaRecord => ({
  ...record(offset, value),
  headers: { [temporalLevelHeader]: Buffer.from('1') },
})

/**
 * The steps with every edge faked: what they do goes into `calls`, in order. Event 2's id is no
 * UUID, so the insert refuses any batch holding its row, as ClickHouse does.
 */
function harness(
  options: { stored?: StoredRow[]; failDeadLetters?: boolean; trail?: Map<string, string> } = {},
) {
  /** What the chain table holds, event key → digest: shared by generations that pass it along. */
  const trail = options.trail ?? new Map<string, string>()
  const calls: string[] = []
  const lookups: StoredRowsQuery[] = []
  const committed: PartitionOffset[][] = []
  const written: string[] = []
  const writtenLatest: string[] = []
  const events = eventIds.map((id, i): AuditEvent => ({ ...template, event_id: i === 2 ? 'not-a-uuid' : id }))
  const noop = () => undefined
  const telemetry: SinkTelemetry = {
    clickhouseRetry: noop,
    clickhouseAnswered: noop,
    writing: noop,
    waited: noop,
    recordFailed: noop,
    batchWritten: noop,
    checkpointed: noop,
    checkpointFailed: noop,
  }
  const { context } = fakeRuntimeContext(createLogger({ service: 'test', level: 'silent' }), {
    commit: (offsets) => {
      calls.push(`commit ${offsets.map((o) => o.offset).join(',')}`)
      committed.push([...offsets])
      return Promise.resolve()
    },
    countDeadLetters: (classes) => void calls.push(`count ${classes.join(',')}`),
  })
  const steps = sinkSteps(
    {
      decode: (value) => {
        const text = value.toString()
        if (text === 'bad') return Promise.reject(new CodecError('EVENT_UNDECODABLE', 'no magic byte', false))
        return Promise.resolve(events[Number(text)]!)
      },
      namespaceByTopic: new Map([['audit.alerts', 'alert']]),
      storedRows: (query) => {
        lookups.push(query)
        calls.push(`lookup ${query.fromOffset}`)
        return Promise.resolve(options.stored ?? [])
      },
      insert: (rows) => {
        const offsets = rows.map((r) => r.record.offset)
        if (rows.some((r) => r.eventId === 'not-a-uuid')) {
          return Promise.reject(
            new ClickHouseError({ message: 'Cannot parse UUID', code: '376', type: 'CANNOT_PARSE_UUID' }),
          )
        }
        calls.push(`insert ${offsets.join(',')}`)
        written.push(...offsets)
        return Promise.resolve()
      },
      insertLatest: (rows) => {
        const offsets = rows.map((r) => r.record.offset)
        if (rows.some((r) => r.eventId === 'not-a-uuid')) {
          return Promise.reject(
            new ClickHouseError({ message: 'Cannot parse UUID', code: '376', type: 'CANNOT_PARSE_UUID' }),
          )
        }
        calls.push(`insert latest ${offsets.join(',')}`)
        writtenLatest.push(...offsets)
        return Promise.resolve()
      },
      sendDeadLetters: (letters: readonly Message[]) => {
        if (options.failDeadLetters) return Promise.reject(new Error('the sink crashed here'))
        calls.push(`dead letters ${letters.length}`)
        return Promise.resolve()
      },
      deadLetterOf: (source, failure) => ({ value: `${source.offset} ${failure.errorClass}` }),
      storedDigests: (identities) =>
        Promise.resolve(
          new Map(
            identities.flatMap((identity) => {
              const digest = trail.get(eventKeyOf(identity))
              return digest === undefined ? [] : [[eventKeyOf(identity), digest] as const]
            }),
          ),
        ),
      chainStore: {
        load: (chains) =>
          Promise.resolve(
            new Map(
              chains.map(({ tenant, chain }) => [
                chainKeyOf(tenant, chain),
                {
                  head: genesisHead(tenant, chain),
                  uncovered: [],
                  oldestUncoveredAtMs: undefined,
                  lastCheckpoint: null,
                },
              ]),
            ),
          ),
        insertEntries: (lines) => {
          for (const { line } of lines) {
            const entry = JSON.parse(line) as { tenant: string; event_id: string; content_digest: string }
            trail.set(eventKeyOf({ tenant: entry.tenant, eventId: entry.event_id }), entry.content_digest)
          }
          calls.push(`chain ${lines.length}`)
          return Promise.resolve()
        },
        insertCheckpoints: () => Promise.resolve(),
      },
      signingKey: undefined,
      checkpoints: { maxEntries: 1_000, intervalMs: 60_000 },
      publishCheckpoints: () => Promise.resolve(),
      batch: { maxRows: 100, maxBytes: 1 << 20, maxAgeMs: 1_000 },
      backoff: { initialDelayMs: 1, maxDelayMs: 1, multiplier: 1 },
      telemetry,
      now: () => 0,
    },
    context,
  )
  const submitAll = async (records: KafkaRecord[]) => {
    for (const r of records) await steps.submit({ payload: r, committable: committableOf(r) })
  }
  return { steps, submitAll, calls, lookups, committed, written, writtenLatest, trail, events }
}

describe('sinkSteps', () => {
  it('skips rows stored with the same offset and event, writes the rest, dead-letters, then commits', async () => {
    const { steps, submitAll, calls, lookups, written } = harness({
      // Offset 0 holds event 0; offset 1 holds another event (a topic since recreated).
      stored: [
        { offset: 0n, eventId: eventIds[0]! },
        { offset: 1n, eventId: '11111111-0000-4000-8000-000000000000' },
      ],
    })
    await submitAll([record(0), record(1), record(2), record(3), record(4, 'bad')])
    await steps.join()
    expect(lookups).toEqual([{ topic: 't', partition: 0, fromOffset: 0n, limit: 200 }])
    expect(written.sort()).toEqual(['1', '3'])
    // The refused row (2) and the undecodable record (4) go out before the offsets are committed.
    // Events 0 (stored before) and 1, 3 (written now) are chained; the refused row is not.
    expect(calls.slice(-4)).toEqual([
      'chain 3',
      'dead letters 2',
      'commit 5',
      'count ROW_REJECTED,EVENT_UNDECODABLE',
    ])
  })

  it('commits nothing when the dead letters could not be sent, and a new generation writes them', async () => {
    const first = harness({ failDeadLetters: true })
    await first.submitAll([record(0), record(1), record(2)])
    await expect(first.steps.join()).rejects.toThrow('the sink crashed here')
    expect(first.committed).toEqual([])
    await first.steps.close()

    // What the runtime does next: new steps read again from the last commit. ClickHouse holds rows
    // 0 and 1 now; row 2, refused, was never stored.
    const second = harness({
      trail: first.trail,
      stored: [
        { offset: 0n, eventId: eventIds[0]! },
        { offset: 1n, eventId: eventIds[1]! },
      ],
    })
    await second.submitAll([record(0), record(1), record(2)])
    await second.steps.join()
    expect(second.written).toEqual([])
    // Their chain entries were written too: nothing to chain again.
    expect(second.calls.filter((c) => c.startsWith('chain'))).toEqual([])
    expect(second.calls.slice(-3)).toEqual(['dead letters 1', 'commit 3', 'count ROW_REJECTED'])
  })

  it('chains rows stored before a crash that came before their entries', async () => {
    const { steps, submitAll, calls, written, trail } = harness({
      stored: [
        { offset: 0n, eventId: eventIds[0]! },
        { offset: 1n, eventId: eventIds[1]! },
      ],
    })
    await submitAll([record(0), record(1), record(3)])
    await steps.join()
    expect(written).toEqual(['3'])
    expect(calls).toContain('chain 3')
    expect(trail.size).toBe(3)
  })

  it('refuses an event whose id the trail holds with other content, however old, and keeps the original', async () => {
    // Event 3 was stored long ago (no window remembers it) with other content.
    const trail = new Map<string, string>()
    const probe = harness()
    const original = identityOf({ ...probe.events[3]!, changes: [] })
    trail.set(eventKeyOf(original), original.digest)
    const { steps, submitAll, calls, written } = harness({ trail })
    await submitAll([record(3), record(4)])
    await steps.join()
    expect(written).toEqual(['4'])
    expect(trail.get(eventKeyOf(original))).toBe(original.digest)
    expect(calls.slice(-3)).toEqual(['dead letters 1', 'commit 5', 'count EVENT_ID_CONFLICT'])
  })

  it('takes an exact replay of a stored event as stored: committed, not written or chained again', async () => {
    const first = harness()
    await first.submitAll([record(3)])
    await first.steps.join()
    // The normalizer sent event 3 again after a crash: the same bytes at a new offset.
    const second = harness({ trail: first.trail })
    await second.submitAll([record(7, '3')])
    await second.steps.join()
    expect(second.written).toEqual([])
    expect(second.calls.filter((c) => c.startsWith('chain') || c.startsWith('dead'))).toEqual([])
    expect(second.committed).toEqual([[{ topic: 't', partition: 0, offset: '8' }]])
  })

  it('looks stored rows up again when a partition is read again from an older offset', async () => {
    const { steps, submitAll, lookups, written } = harness()
    await submitAll([record(0), record(1)])
    // A rebalance: kafkajs reads again from the last commit, before this batch was written.
    await submitAll([record(0), record(1), record(2, '3')])
    await steps.join()
    expect(lookups.map((l) => l.fromOffset)).toEqual([0n, 0n])
    expect(written.sort()).toEqual(['0', '1', '2'])
  })

  it('writes events marked temporal level 1 to the latest-state table, unchained, and commits after both inserts', async () => {
    const { steps, submitAll, calls, written, writtenLatest, trail } = harness()
    // 0 and 3 keep their history; 1 and 4 are marked; 2 is marked and refused (no UUID); 5 is no event.
    await submitAll([record(0), marked(1), marked(2), record(3), marked(4), marked(5, 'bad')])
    await steps.join()
    expect(written).toEqual(['0', '3'])
    expect(writtenLatest.sort()).toEqual(['1', '4'])
    // Only the trail's events are in the chain.
    expect([...trail.keys()].map((key) => key.slice(-1)).sort()).toEqual(['0', '3'])
    expect(calls.slice(-4)).toEqual([
      'chain 2',
      'dead letters 2',
      'commit 6',
      'count ROW_REJECTED,EVENT_UNDECODABLE',
    ])
    expect(calls.indexOf('insert latest 1,4')).toBeLessThan(calls.indexOf('commit 6'))
  })
})
