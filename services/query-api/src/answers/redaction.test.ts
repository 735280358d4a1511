import { describe, expect, it } from 'vitest'
import type { StoredEventRow } from './eventRow.js'
import { rowForRole } from './redaction.js'

const row = {
  changes: [
    { path: 'email', old_value: '"a@old.example"', new_value: '"a@new.example"', value_type: 'string' },
    { path: 'tier', old_value: '"gold"', new_value: '"platinum"', value_type: 'string' },
  ],
  before: '{"email":"a@old.example","tier":"gold"}',
  after: '{"email":"a@new.example","tier":"platinum"}',
  sensitive_fields: ['email'],
} as unknown as StoredEventRow

describe('rowForRole', () => {
  it('shows an auditor the row as stored', () => {
    expect(rowForRole(row, 'auditor')).toBe(row)
  })

  it("replaces an analyst's sensitive values in changes and snapshots, keeping the rest", () => {
    const seen = rowForRole(row, 'analyst')
    expect(seen.changes).toEqual([
      { path: 'email', old_value: '"[redacted]"', new_value: '"[redacted]"', value_type: 'string' },
      row.changes[1],
    ])
    expect(JSON.parse(seen.before!)).toEqual({ email: '[redacted]', tier: 'gold' })
    expect(JSON.parse(seen.after!)).toEqual({ email: '[redacted]', tier: 'platinum' })
  })

  it('hides every value when the stored row cannot be redacted path by path', () => {
    const broken = { ...row, sensitive_fields: ['email[['], before: 'not json' } as StoredEventRow
    const seen = rowForRole(broken, 'analyst')
    expect(JSON.stringify(seen)).not.toContain('example')
    expect(seen.before).toBe('"[redacted]"')
    expect(seen.changes.map((change) => change.new_value)).toEqual(['"[redacted]"', '"[redacted]"'])
  })
})
