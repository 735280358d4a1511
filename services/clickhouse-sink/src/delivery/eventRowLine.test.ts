import { describe, expect, it } from 'vitest'
import { eventColumns, eventRow } from '@audit-pipeline/clickhouse-schema'
import { parseEventJson } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { eventRowColumns, eventRowLine } from './eventRowLine.js'

describe('eventRowLine', () => {
  it("writes the row's values in the table's column order, one line", () => {
    const event = parseEventJson(JSON.parse(ticketExampleLines()[2] ?? '') as unknown)
    const row = eventRow(
      { ...event, event_id: '0190a4c2-7b1e-7c3d-8e4f-000000000001', occurred_at: 0, recorded_at: 0 },
      { topic: 'audit.normalized', partition: 3, offset: '9007199254740993' },
    )
    const line = eventRowLine(row)
    expect(eventRowColumns).toEqual(eventColumns.map(([name]) => name))
    expect(line.endsWith('\n')).toBe(true)
    expect(line.indexOf('\n')).toBe(line.length - 1)
    expect(JSON.parse(line)).toEqual(eventRowColumns.map((column) => row[column]))
  })
})
