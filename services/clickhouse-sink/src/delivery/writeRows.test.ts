import { describe, expect, it } from 'vitest'
import type { KafkaRecord } from '@audit-pipeline/kafka'
import { ClickHouseError } from '@audit-pipeline/storage'
import type { BatchRow } from '../batching/sinkBatch.js'
import { writeRows } from './writeRows.js'

/** Rows whose id ends in 7 are ones ClickHouse refuses. */
const rowsOf = (...ids: number[]): BatchRow[] =>
  ids.map((id) => ({
    line: Buffer.from(`{"id":${id}}\n`),
    eventId: id % 10 === 7 ? `bad-${id}` : `event-${id}`,
    partition: 202412,
    record: { topic: 't', partition: 0, offset: String(id) } as KafkaRecord,
    identity: { tenant: 't', eventId: `event-${id}`, digest: 'd', occurredAtMs: 0, category: 'business' },
    eventStored: false,
    target: 'trail',
  }))
const idsOf = (rows: readonly BatchRow[]) => rows.map((r) => Number(r.record.offset))
const options = (onRetry: (error: unknown) => void = () => undefined) => ({
  backoff: { initialDelayMs: 1, maxDelayMs: 1, multiplier: 1 },
  signal: new AbortController().signal,
  onRetry,
})
const rejection = () =>
  new ClickHouseError({
    message: 'Cannot parse input: expected ...',
    code: '27',
    type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  })

describe('writeRows', () => {
  it('writes a batch in one insert carrying its token', async () => {
    const inserts: { ids: number[]; token: string }[] = []
    const rejected = await writeRows(
      rowsOf(1, 2, 3),
      (rows, token) => {
        inserts.push({ ids: idsOf(rows), token })
        return Promise.resolve()
      },
      options(),
    )
    expect(rejected).toEqual([])
    expect(inserts).toEqual([{ ids: [1, 2, 3], token: expect.stringMatching(/^audit-sink-/) as string }])
  })

  it('retries an unavailable ClickHouse with the same token until it answers', async () => {
    const tokens: string[] = []
    const retries: unknown[] = []
    let attempts = 0
    await writeRows(
      rowsOf(1, 2),
      (_rows, token) => {
        tokens.push(token)
        return ++attempts < 4 ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve()
      },
      options((error) => retries.push(error)),
    )
    expect(tokens).toHaveLength(4)
    expect(new Set(tokens).size).toBe(1)
    expect(retries).toHaveLength(3)
  })

  it('halves a batch ClickHouse refuses until the bad rows are alone; writes the rest and returns the bad ones', async () => {
    const written: number[] = []
    const tokens = new Set<string>()
    const rejected = await writeRows(
      rowsOf(...Array.from({ length: 20 }, (_, i) => i)),
      (rows, token) => {
        if (rows.some((r) => r.eventId.startsWith('bad'))) return Promise.reject(rejection())
        tokens.add(token)
        written.push(...idsOf(rows))
        return Promise.resolve()
      },
      options(),
    )
    expect(rejected.map((r) => r.row.record.offset)).toEqual(['7', '17'])
    expect(rejected[0]?.reason).toMatch(/Cannot parse input/)
    expect(written.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i).filter((id) => id % 10 !== 7),
    )
    // Every sub-insert has a token of its own: a retried sub-insert is deduplicated, a different one is not.
    expect(tokens.size).toBeGreaterThan(1)
  })

  it('lets a stop during an outage out, so the batch is not committed', async () => {
    const controller = new AbortController()
    const attempt = writeRows(
      rowsOf(1),
      () => {
        controller.abort()
        return Promise.reject(new Error('connect ECONNREFUSED'))
      },
      { ...options(), signal: controller.signal },
    )
    await expect(attempt).rejects.toThrow(/ECONNREFUSED/)
  })
})
