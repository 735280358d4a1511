import { describe, expect, it } from 'vitest'
import { admitRows } from './admitRows.js'
import { eventKeyOf, type EventIdentity } from './eventIdentity.js'

const identity = (tenant: string, n: number, digest: string): EventIdentity => ({
  tenant,
  eventId: `00000000-0000-4000-8000-00000000000${n}`,
  digest,
  occurredAtMs: 0,
  category: 'business',
})
const row = (name: string, id: EventIdentity) => ({ name, identity: id })

describe('admitRows', () => {
  it('admits new events, takes exact copies as replays and refuses other content as conflicts', () => {
    const stored = new Map([[eventKeyOf(identity('acme', 1, 'd1')), 'd1']])
    const rows = [
      row('new', identity('acme', 2, 'd2')),
      row('replay of stored', identity('acme', 1, 'd1')),
      row('rewrite of stored', identity('acme', 1, 'x1')),
      row('repeat in batch', identity('acme', 2, 'd2')),
      row('rewrite in batch', identity('acme', 2, 'x2')),
      row('same id, other tenant', identity('beta', 1, 'x1')),
    ]
    const admission = admitRows(rows, stored)
    expect(admission.admitted.map((r) => r.name)).toEqual(['new', 'same id, other tenant'])
    expect(admission.replays.map((r) => r.name)).toEqual(['replay of stored', 'repeat in batch'])
    expect(admission.conflicts).toEqual([
      {
        row: rows[2],
        conflict: {
          tenant: 'acme',
          eventId: identity('acme', 1, '').eventId,
          storedDigest: 'd1',
          refusedDigest: 'x1',
        },
      },
      {
        row: rows[4],
        conflict: {
          tenant: 'acme',
          eventId: identity('acme', 2, '').eventId,
          storedDigest: 'd2',
          refusedDigest: 'x2',
        },
      },
    ])
  })

  it('keeps the stored copy however many rewrites follow, and never the last one', () => {
    const stored = new Map([[eventKeyOf(identity('acme', 1, 'first')), 'first']])
    const rewrites = ['second', 'third', 'first', 'fourth'].map((d) => row(d, identity('acme', 1, d)))
    const admission = admitRows(rewrites, stored)
    expect(admission.admitted).toEqual([])
    expect(admission.replays.map((r) => r.name)).toEqual(['first'])
    expect(admission.conflicts.map((c) => c.conflict.storedDigest)).toEqual(['first', 'first', 'first'])
  })
})
