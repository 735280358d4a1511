import { describe, expect, it } from 'vitest'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { eventRow } from './eventRow.js'
import { checkpointColumns } from './integrityTables.js'
import { storedCheckpointSelect } from './integrityRows.js'
import { eventOfStoredRow, storedEventSelect, type StoredEventRow } from './storedEvent.js'

/** What storedEventSelect gives for the row eventRow wrote: times as milliseconds, kafka_* left out. */
function asStored(event: AuditEvent, quoted64 = false): StoredEventRow {
  const {
    kafka_topic: _t,
    kafka_partition: _p,
    kafka_offset: _o,
    event_id,
    occurred_at: _occurred,
    recorded_at: _recorded,
    ...row
  } = eventRow(event, {
    topic: 't',
    partition: 0,
    offset: '0',
  })
  const time = (ms: number) => (quoted64 ? String(ms) : ms)
  return JSON.parse(
    JSON.stringify({
      ...row,
      event_id_text: event_id,
      occurred_at_ms: time(event.occurred_at),
      recorded_at_ms: time(event.recorded_at),
    }),
  ) as StoredEventRow
}

const story = ticketExampleLines().map((line): AuditEvent => ({
  recorded_at: Date.parse('2024-03-17T00:00:00Z'),
  ...parseEventJson(JSON.parse(line)),
}))

describe('eventOfStoredRow', () => {
  it('gives back every event of the ticket story exactly', () => {
    for (const event of story) expect(eventOfStoredRow(asStored(event))).toEqual(event)
  })

  it('reads an on_behalf_of, 64-bit times as text, and changes as unnamed tuples', () => {
    const [first] = story as [AuditEvent]
    const event: AuditEvent = {
      ...first,
      on_behalf_of: {
        type: 'user',
        id: 'u-7',
        display_name: null,
        roles: ['owner'],
        ip: null,
        user_agent: null,
        session_id: 's-7',
      },
      changes: [{ path: 'a', old_value: null, new_value: '1', value_type: 'number' }],
    }
    const stored = asStored(event, true)
    stored.changes = [['a', null, '1', 'number']]
    expect(eventOfStoredRow(stored)).toEqual(event)
  })

  it('selects every column eventRow writes but the Kafka position', () => {
    const [first] = story as [AuditEvent]
    const written = Object.keys(eventRow(first, { topic: 't', partition: 0, offset: '0' })).filter(
      (column) => !column.startsWith('kafka_'),
    )
    // Each item names a column eventRow writes (converted ones read it inside a function).
    const read = storedEventSelect.split(', ').map((item) => /\(([a-z_]+)\)/.exec(item)?.[1] ?? item)
    expect(read).toEqual(written)
    for (const item of storedEventSelect.split(', ')) {
      const alias = item.split(' AS ')[1]
      if (alias !== undefined) expect(written).not.toContain(alias)
    }
  })
})

describe('storedCheckpointSelect', () => {
  it('names no converted column after a column: ClickHouse would read WHERE and ORDER BY through it', () => {
    const columns = checkpointColumns.map(([name]) => name)
    for (const item of storedCheckpointSelect.split(', ')) {
      const alias = item.split(' AS ')[1]
      if (alias !== undefined) expect(columns).not.toContain(alias)
    }
    const read = storedCheckpointSelect.split(', ').map((item) => /\(([a-z_]+)\)/.exec(item)?.[1] ?? item)
    expect(read).toEqual(columns.filter((name) => name !== 'checkpoint_hash'))
  })
})
