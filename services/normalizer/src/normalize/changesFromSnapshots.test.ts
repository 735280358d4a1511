import { describe, expect, it } from 'vitest'
import { changesFromSnapshots } from './changesFromSnapshots.js'

const urgent = JSON.stringify({ title: 'Export to PDF fails', priority: 'Urgent', status: 'open' })
const normal = JSON.stringify({ title: 'Export to PDF fails', priority: 'Normal', status: 'open' })

describe('changesFromSnapshots', () => {
  it('diffs an update that has both snapshots', () => {
    expect(changesFromSnapshots('update', { before: normal, after: urgent }, [])).toEqual({
      changes: [{ path: 'priority', old_value: '"Normal"', new_value: '"Urgent"', value_type: 'string' }],
      problems: [],
    })
  })

  it('lists every field as added for a create and as removed for a delete', () => {
    const created = changesFromSnapshots('create', { before: null, after: normal }, [])
    expect(created.changes.map((c) => [c.path, c.old_value, c.new_value])).toEqual([
      ['priority', null, '"Normal"'],
      ['status', null, '"open"'],
      ['title', null, '"Export to PDF fails"'],
    ])
    const deleted = changesFromSnapshots('delete', { before: normal, after: null }, [])
    expect(deleted.changes.map((c) => [c.path, c.old_value, c.new_value])).toEqual([
      ['priority', '"Normal"', null],
      ['status', '"open"', null],
      ['title', '"Export to PDF fails"', null],
    ])
  })

  it('computes nothing when the kind lacks a snapshot it needs', () => {
    const none = { changes: [], problems: [] }
    expect(changesFromSnapshots('update', { before: null, after: urgent }, [])).toEqual(none)
    expect(changesFromSnapshots('update', { before: normal, after: null }, [])).toEqual(none)
    expect(changesFromSnapshots('create', { before: normal, after: null }, [])).toEqual(none)
    expect(changesFromSnapshots('delete', { before: null, after: normal }, [])).toEqual(none)
  })

  it('computes nothing for reads and operations, whose snapshots are context', () => {
    const none = { changes: [], problems: [] }
    expect(changesFromSnapshots('read', { before: normal, after: urgent }, [])).toEqual(none)
    expect(changesFromSnapshots('operation', { before: normal, after: urgent }, [])).toEqual(none)
  })

  it('compares sensitive fields whole, so no key under them shows in a path', () => {
    const before = JSON.stringify({ contacts: { 'alex@example.com': 'primary' } })
    const after = JSON.stringify({ contacts: { 'jack@example.com': 'primary' } })
    const { changes } = changesFromSnapshots('update', { before, after }, ['contacts'])
    expect(changes.map((c) => c.path)).toEqual(['contacts'])
  })

  it('names a snapshot that is JSON but not an object', () => {
    expect(changesFromSnapshots('update', { before: '[1]', after: '"text"' }, [])).toEqual({
      changes: [],
      problems: [
        {
          field: 'before',
          message: 'changes are computed from snapshots that are JSON objects; this one is an array',
        },
        {
          field: 'after',
          message: 'changes are computed from snapshots that are JSON objects; this one is a string',
        },
      ],
    })
    expect(changesFromSnapshots('create', { before: null, after: 'null' }, []).problems).toEqual([
      {
        field: 'after',
        message: 'changes are computed from snapshots that are JSON objects; this one is null',
      },
    ])
  })

  it('leaves text that is not JSON, and sensitive fields that are not paths, to the policy check', () => {
    const none = { changes: [], problems: [] }
    expect(changesFromSnapshots('update', { before: '{oops', after: urgent }, [])).toEqual(none)
    expect(changesFromSnapshots('update', { before: normal, after: urgent }, ['a..b'])).toEqual(none)
  })
})
