import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it } from 'vitest'
import { applyLoggingLevels } from './applyLoggingLevels.js'
import type { InformativeLevel, LoggingLevels, TemporalLevel } from './levelsPolicy.js'

/** The ticket 9548-B1 story (schemas/examples), recorded a little after each event. */
const story = ticketExampleLines().map((line): AuditEvent => {
  const draft = parseEventJson(JSON.parse(line))
  return { ...draft, recorded_at: draft.occurred_at + 1_250 }
})
/** "Stefany Ilds lowered priority Urgent → Normal" (and proposed a solution), 16 March 2024 13:12 UTC. */
const lowered = story[2] as AuditEvent

const solution = "Use the print dialog's Save as PDF until the fix ships."
const midnight16March = Date.parse('2024-03-16T00:00:00Z')

/** Every pair of levels, 3/3 first. */
const descending = [3, 2, 1] as const
const combinations: LoggingLevels[] = descending.flatMap((temporal) =>
  descending.map((informative) => ({ temporal, informative })),
)

/** What each informative level keeps of the lowered event: exactly this, the rest untouched. */
const whatOf: Record<
  InformativeLevel,
  Pick<AuditEvent, 'changes' | 'before' | 'after' | 'sensitive_fields'>
> = {
  3: {
    changes: [
      { path: 'priority', old_value: '"Urgent"', new_value: '"Normal"', value_type: 'string' },
      { path: 'solution', old_value: null, new_value: JSON.stringify(solution), value_type: 'string' },
    ],
    before: lowered.before,
    after: lowered.after,
    sensitive_fields: [],
  },
  2: {
    changes: [
      { path: 'priority', old_value: null, new_value: null, value_type: 'string' },
      { path: 'solution', old_value: null, new_value: null, value_type: 'string' },
    ],
    before: null,
    after: null,
    sensitive_fields: [],
  },
  1: { changes: [], before: null, after: null, sensitive_fields: [] },
}

/** What each temporal level keeps of the event's times. */
const whenOf: Record<TemporalLevel, Pick<AuditEvent, 'occurred_at' | 'recorded_at'>> = {
  3: { occurred_at: Date.parse('2024-03-16T13:12:00Z'), recorded_at: Date.parse('2024-03-16T13:12:01.250Z') },
  2: { occurred_at: midnight16March, recorded_at: midnight16March },
  1: { occurred_at: Date.parse('2024-03-16T13:12:00Z'), recorded_at: Date.parse('2024-03-16T13:12:01.250Z') },
}

describe('applyLoggingLevels: the lowered priority at every combination', () => {
  it.each(combinations)(
    'temporal $temporal, informative $informative: exactly what the table says',
    (levels) => {
      const reduced = applyLoggingLevels(lowered, levels)
      // Everything else (who, which action, which object, outcome, correlation…) as it was.
      expect(reduced).toEqual({ ...lowered, ...whatOf[levels.informative], ...whenOf[levels.temporal] })
      expect(Object.keys(reduced)).toEqual(Object.keys(lowered))
      expect(reduced).toMatchObject({
        actor: { id: 'u-1003', display_name: 'Stefany Ilds' },
        action: { kind: 'update', name: 'ticket.update' },
        object: { type: 'ticket', id: '9548-B1' },
        outcome: { status: 'success' },
        correlation: lowered.correlation,
      })
    },
  )

  it.each(combinations)('temporal $temporal, informative $informative: and nothing more', (levels) => {
    const text = JSON.stringify(applyLoggingLevels(lowered, levels))
    const keeps = (fragment: string) => expect(text).toContain(fragment)
    const lacks = (fragment: string) => expect(text).not.toContain(fragment)
    keeps('Stefany Ilds')
    keeps('ticket.update')
    keeps('9548-B1')
    // Values: only at informative 3.
    for (const value of ['Urgent', 'Normal', 'Save as PDF', 'open']) {
      if (levels.informative === 3) keeps(value)
      else lacks(value)
    }
    // Field names changed: at 2 and 3. Those only the snapshots name (title, status): at 3.
    for (const field of ['"priority"', '"solution"']) {
      if (levels.informative >= 2) keeps(field)
      else lacks(field)
    }
    for (const field of ['\\"title\\"', '\\"status\\"']) {
      if (levels.informative === 3) keeps(field)
      else lacks(field)
    }
    // The time of day: everywhere but temporal 2, which keeps the day.
    for (const time of [whenOf[3].occurred_at, whenOf[3].recorded_at]) {
      if (levels.temporal === 2) lacks(String(time))
      else keeps(String(time))
    }
    if (levels.temporal === 2) keeps(String(midnight16March))
  })
})

describe('applyLoggingLevels: the whole story', () => {
  it('informative 2 keeps every changed path of every event, and no value', () => {
    const reduced = story.map((event) => applyLoggingLevels(event, { temporal: 3, informative: 2 }))
    expect(reduced.map((event) => event.changes.map((change) => [change.path, change.value_type]))).toEqual([
      [
        ['title', 'string'],
        ['priority', 'string'],
        ['status', 'string'],
      ],
      [['priority', 'string']],
      [
        ['priority', 'string'],
        ['solution', 'string'],
      ],
    ])
    const values = reduced.flatMap((event) => event.changes.flatMap((c) => [c.old_value, c.new_value]))
    expect(values.every((value) => value === null)).toBe(true)
    expect(reduced.map((event) => [event.before, event.after])).toEqual([
      [null, null],
      [null, null],
      [null, null],
    ])
  })

  it('informative 1 keeps who did which action to which object, and when', () => {
    const reduced = story.map((event) => applyLoggingLevels(event, { temporal: 3, informative: 1 }))
    expect(
      reduced.map(({ occurred_at, actor, action, object }) => [
        new Date(occurred_at).toISOString(),
        actor.display_name,
        action.kind,
        object.id,
      ]),
    ).toEqual([
      ['2024-03-14T09:45:00.000Z', 'Alex Mercer', 'create', '9548-B1'],
      ['2024-03-15T11:17:00.000Z', 'Jack Peltrow', 'update', '9548-B1'],
      ['2024-03-16T13:12:00.000Z', 'Stefany Ilds', 'update', '9548-B1'],
    ])
    expect(JSON.stringify(reduced)).not.toMatch(/Urgent|Normal|priority|solution|title|open/)
  })

  it('temporal 2 keeps each event’s day, so the order of days stays and the times of day go', () => {
    const days = story.map((event) => applyLoggingLevels(event, { temporal: 2, informative: 3 }))
    expect(days.map((event) => new Date(event.occurred_at).toISOString())).toEqual([
      '2024-03-14T00:00:00.000Z',
      '2024-03-15T00:00:00.000Z',
      '2024-03-16T00:00:00.000Z',
    ])
    expect(days.map((event) => event.recorded_at)).toEqual(days.map((event) => event.occurred_at))
  })
})

describe('applyLoggingLevels: properties', () => {
  it('returns the event itself at 3/3, and never modifies the event given', () => {
    expect(applyLoggingLevels(lowered, { temporal: 3, informative: 3 })).toBe(lowered)
    const copy = structuredClone(lowered)
    for (const levels of combinations) applyLoggingLevels(lowered, levels)
    expect(lowered).toEqual(copy)
  })

  it('keeps the event’s own sensitive_fields at informative 2, and drops them at 1', () => {
    const flagged = { ...lowered, sensitive_fields: ['solution'] }
    expect(applyLoggingLevels(flagged, { temporal: 3, informative: 2 }).sensitive_fields).toEqual([
      'solution',
    ])
    expect(applyLoggingLevels(flagged, { temporal: 3, informative: 1 }).sensitive_fields).toEqual([])
  })

  it('is idempotent and deterministic: the same event at the same levels gives the same bytes', () => {
    for (const levels of combinations) {
      const once = applyLoggingLevels(lowered, levels)
      expect(applyLoggingLevels(once, levels)).toEqual(once)
      expect(JSON.stringify(applyLoggingLevels(structuredClone(lowered), levels))).toBe(JSON.stringify(once))
    }
  })

  it('cuts times to midnight UTC whatever the time of day, a time at midnight staying as it is', () => {
    const at = (iso: string) =>
      applyLoggingLevels(
        { ...lowered, occurred_at: Date.parse(iso), recorded_at: Date.parse(iso) },
        {
          temporal: 2,
          informative: 3,
        },
      )
    expect(at('2024-03-16T00:00:00.000Z').occurred_at).toBe(midnight16March)
    expect(at('2024-03-16T23:59:59.999Z').occurred_at).toBe(midnight16March)
    expect(at('2024-03-17T00:00:00.000Z').recorded_at).toBe(Date.parse('2024-03-17T00:00:00Z'))
    expect(at('1970-01-01T08:00:00.000Z').occurred_at).toBe(0)
  })
})
