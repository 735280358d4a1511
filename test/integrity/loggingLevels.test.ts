import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { waitFor } from '@audit-pipeline/testing'
import { buildIntegrityServices, createIntegrityPipeline } from './support/integrityPipeline.js'
import { ticketEvent } from './support/ticketEvents.js'

const stack = inject('stack')

beforeAll(() => buildIntegrityServices(), 300_000)

type StoredChange = { path: string; old_value: string | null; new_value: string | null }
type StoredRow = {
  tenant: string
  event_id: string
  action_name: string
  actor_id: string
  occurred_ms: string
  recorded_ms: string
  changes: StoredChange[]
  before: string | null
  after: string | null
}

/** The parts of a story event (its documented JSON form) the assertions read. */
type StoryEvent = {
  event_id: string
  action: { name: string }
  actor: { id: string }
  occurred_at: string
  recorded_at: string
  changes?: { path: string }[]
}

const day = 86_400_000
const steps = ['created', 'raised', 'lowered'] as const

/**
 * The reference's levels (services/normalizer README, "Logging levels"), through the real
 * normalizer and ClickHouse sink: the ticket story (created, priority raised to Urgent, lowered to
 * Normal by Stefany Ilds) told once per level combination, each in its own tenant, and what
 * ClickHouse then holds of the ticket for each, row by row: what the table says, and nothing more.
 * (The alerts the story raises are the pipeline's own records of the tenant, kept whole.)
 */
describe('logging levels, stored', () => {
  it(
    'store the ticket story at each of the nine level combinations as the table says, and nothing more',
    { timeout: 300_000 },
    async () => {
      const run = randomUUID().slice(0, 8)
      const combinations = [1, 2, 3].flatMap((temporal) =>
        [1, 2, 3].map((informative) => ({
          temporal,
          informative,
          tenant: `lv-${run}-t${temporal}i${informative}`,
        })),
      )
      const levelsFile = join(mkdtempSync(join(tmpdir(), 'levels-')), 'levels.yaml')
      writeFileSync(
        levelsFile,
        [
          'default: { temporal: 3, informative: 3 }',
          'rules:',
          ...combinations.map(
            (c) => `  - { tenant: ${c.tenant}, temporal: ${c.temporal}, informative: ${c.informative} }`,
          ),
          '',
        ].join('\n'),
      )
      const pipeline = await createIntegrityPipeline(stack, {
        normalizerEnv: { NORMALIZER_LEVELS_FILE: levelsFile },
      })
      await pipeline.start()
      const sent = new Map<string, StoryEvent[]>()
      for (const { tenant } of combinations) {
        const story = steps.map((step) => ticketEvent(step, { tenant, ticket: '9548-B1' }))
        for (const event of story) await pipeline.producer.generic(event)
        sent.set(tenant, story as unknown as StoryEvent[])
      }
      await pipeline.waitForNormalizerToFinish()
      await waitFor(() => pipeline.seen.normalized.messages.length >= combinations.length * steps.length, {
        timeoutMs: 60_000,
        description: 'every event normalized',
      })
      await pipeline.waitForSinkToRead(pipeline.seen.normalized.messages)
      await pipeline.stop()

      const columns =
        'tenant, toString(event_id) AS event_id, action_name, actor_id, toString(toUnixTimestamp64Milli(occurred_at)) AS occurred_ms, ' +
        'toString(toUnixTimestamp64Milli(recorded_at)) AS recorded_ms, changes, before, after'
      const [trail, latest, wholeTrail, wholeLatest] = pipeline.query([
        `SELECT ${columns} FROM audit_events WHERE startsWith(tenant, 'lv-${run}-') AND object_type = 'ticket' ORDER BY tenant, occurred_at`,
        `SELECT ${columns} FROM audit_record_latest FINAL WHERE startsWith(tenant, 'lv-${run}-') AND object_type = 'ticket' ORDER BY tenant`,
        `SELECT * FROM audit_events WHERE startsWith(tenant, 'lv-${run}-') AND object_type = 'ticket'`,
        `SELECT * FROM audit_record_latest WHERE startsWith(tenant, 'lv-${run}-') AND object_type = 'ticket'`,
      ]) as [StoredRow[], StoredRow[], Record<string, unknown>[], Record<string, unknown>[]]

      for (const { temporal, informative, tenant } of combinations) {
        const story = sent.get(tenant)!
        const where = `temporal ${temporal}, informative ${informative}`
        const inTrail = trail.filter((row) => row.tenant === tenant)
        const inLatest = latest.filter((row) => row.tenant === tenant)
        // Temporal: 3 every change at its time; 2 every change, dates only; 1 the latest change only.
        const rows = temporal === 1 ? inLatest : inTrail
        expect(temporal === 1 ? inTrail : inLatest, `${where}: nothing in the other table`).toEqual([])
        const expectedEvents = temporal === 1 ? story.slice(-1) : story
        expect(
          rows.map((row) => row.event_id),
          where,
        ).toEqual(expectedEvents.map((event) => event.event_id))
        for (const [i, row] of rows.entries()) {
          const event = expectedEvents[i]!
          expect(row.action_name).toBe(event.action.name)
          expect(row.actor_id, `${where}: who, at every level`).toBe(event.actor.id)
          const occurred = Date.parse(event.occurred_at)
          const recorded = Date.parse(event.recorded_at)
          if (temporal === 2) {
            expect(Number(row.occurred_ms), `${where}: the date only`).toBe(occurred - (occurred % day))
            expect(Number(row.recorded_ms)).toBe(recorded - (recorded % day))
          } else {
            expect(Number(row.occurred_ms), where).toBe(occurred)
            expect(Number(row.recorded_ms), where).toBe(recorded)
          }
          // Informative: 3 old → new; 2 which fields, no values; 1 who and what action, no fields.
          const paths = (event.changes ?? []).map((change) => change.path)
          if (informative === 1) expect(row.changes, where).toEqual([])
          else
            expect(
              row.changes.map((change) => change.path),
              where,
            ).toEqual(paths)
          if (informative === 2) {
            for (const change of row.changes)
              expect([change.old_value, change.new_value], where).toEqual([null, null])
          }
          if (informative < 3) expect([row.before, row.after], where).toEqual([null, null])
        }
        // Nothing more: the values of the priority change appear nowhere at informative 1 and 2,
        // and its field's name nowhere at informative 1, in any column of any stored row.
        const stored = JSON.stringify(
          [...wholeTrail, ...wholeLatest].filter((row) => row['tenant'] === tenant),
        )
        if (informative < 3)
          for (const value of ['Urgent', 'Normal']) expect(stored, `${where}: ${value}`).not.toContain(value)
        if (informative === 1) expect(stored, where).not.toContain('priority')
        if (informative === 3) {
          const lowered = rows.at(-1)!
          expect(lowered.changes).toContainEqual(
            expect.objectContaining({ path: 'priority', old_value: '"Urgent"', new_value: '"Normal"' }),
          )
        }
      }
    },
  )
})
