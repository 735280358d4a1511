import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it, onTestFinished } from 'vitest'
import { defaultRetentionPolicy, eventRow, runMigrations } from '@audit-pipeline/clickhouse-schema'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { anyAuditEvent, mapStrings, sampleEvent } from '../../integrity/src/testSupport/auditEvents.js'
import { openTestStorage } from '../../../test/support/testStorage.js'
import {
  canonicalEventTextSql,
  canonicalTextAlias,
  contentDigestSql,
  entryHashCheckedSql,
  jsonSettings,
} from './contentDigestSql.js'
import { digestStoredEvents } from './eventDigests.js'
import { fixtureSpecs } from './testSupport/tamperings.js'
import { writeTrail } from './testSupport/trailFixture.js'
import { eventsByIdStatement, trailTables } from './trailQueries.js'
import { queryBytes, queryRows } from './trailStore.js'

/** What an event reads back as after UTF-8 storage (Avro, ClickHouse): lone surrogates as U+FFFD. */
const asStored = (event: AuditEvent) => mapStrings(event, (text) => text.toWellFormed())

/** Events SQL writes as RFC 8785 does: attribute keys in ASCII (their order is the question). */
const asciiKeys = (event: AuditEvent): AuditEvent => ({
  ...event,
  attributes: Object.fromEntries(
    Object.entries(event.attributes).map(([key, value], i) => [`${key.replace(/[^ -~]/g, '')}#${i}`, value]),
  ),
})

async function storedEvents(events: AuditEvent[]) {
  const opened = await openTestStorage()
  onTestFinished(() => opened.close())
  const { storage, database } = opened
  await runMigrations(storage, { database, retention: defaultRetentionPolicy })
  await storage.client.insert({
    table: `${database}.audit_events`,
    values: events.map((event, i) =>
      eventRow(event, { topic: 'audit.normalized', partition: 0, offset: String(i) }),
    ),
    format: 'JSONEachRow',
  })
  // Both writers, over what is stored: ClickHouse's digest, and the reference's from the whole row.
  const sql = new Map(
    (
      await queryRows<{ id: string; digest: string }>(storage, {
        query: `WITH ${canonicalEventTextSql} AS ${canonicalTextAlias}
SELECT toString(event_id) AS id, ${contentDigestSql} AS digest FROM ${database}.audit_events
SETTINGS ${jsonSettings.join(', ')}`,
        params: {},
      })
    ).map((row) => [row.id, row.digest]),
  )
  const tables = trailTables(database)
  const reference = new Map<string, string>()
  for (const tenant of new Set(events.map((event) => event.tenant))) {
    const ids = events.filter((event) => event.tenant === tenant).map((event) => event.event_id)
    const { ids: read, digests } = digestStoredEvents(
      await queryBytes(storage, eventsByIdStatement(tables, tenant, ids)),
    )
    read.forEach((id, i) => reference.set(id, digests[i] as string))
  }
  return { sql, reference }
}

const now = Date.now()
const withIdentity = (event: AuditEvent, i: number): AuditEvent => ({
  ...event,
  event_id: randomUUID(),
  // Real times: ClickHouse's TTL would remove rows of 1970.
  occurred_at: now - i * 1_000,
  recorded_at: now,
})

describe('contentDigestSql', () => {
  it('computes the content digest of what the pipeline stores, as contentDigest does', async () => {
    const realistic = Array.from({ length: 40 }, (_, i) => sampleEvent(i)).map((event, i) => ({
      ...event,
      // What people write: line breaks and tabs in a reason, a slash in a path.
      outcome: {
        status: 'failure' as const,
        // An escape held as text, and the character itself.
        reason: i % 2 === 0 ? 'timeout\n  at db.query (db.js:12)\tretry 3/3' : 'bad byte \\u001A: \u001a',
      },
      actor: { ...event.actor, display_name: ['Zoë "Z" Müller', 'a\\b', '李雷', null][i % 4] ?? null },
      object: { ...event.object, label: i % 3 === 0 ? 'https://example.com/a/b?c=d' : null },
      on_behalf_of: i % 5 === 0 ? { ...event.actor, id: 'support-1', roles: ['support', 'admin'] } : null,
      changes: [
        ...event.changes,
        { path: 'notes', old_value: null, new_value: '"line\\u2028two 😀"', value_type: 'string' as const },
      ],
      after: i % 2 === 0 ? '{"amount":120,"tags":["a","b"]}' : null,
      attributes: { region: 'eu-west-1', 'x-trace': `t-${i}`, Zone: 'b', '': 'empty key' },
      sensitive_fields: i % 2 === 0 ? ['actor.ip'] : [],
    }))
    const arbitrary = fc.sample(anyAuditEvent, { numRuns: 300, seed: 16 }).map(asStored).map(asciiKeys)
    const events = [...realistic, ...arbitrary].map(withIdentity)
    const { sql, reference } = await storedEvents(events)
    expect(sql.size).toBe(events.length)
    for (const event of events) {
      expect(reference.get(event.event_id)).toBe(contentDigest(event))
      expect(sql.get(event.event_id), JSON.stringify(event)).toBe(contentDigest(event))
    }
  })

  it('gives the rows it does not write as RFC 8785 does a digest no entry records, so verify digests them whole', async () => {
    const base = sampleEvent(1)
    const hostile: AuditEvent[] = [
      // A key at or above U+E000 and an astral one: UTF-16 units and bytes sort them apart.
      { ...base, attributes: { '\u{1f600}': 'astral', '\uff5a': 'fullwidth z' } },
    ].map(withIdentity)
    const { sql, reference } = await storedEvents(hostile)
    for (const event of hostile) {
      expect(reference.get(event.event_id)).toBe(contentDigest(event))
      expect(sql.get(event.event_id)).not.toBe(contentDigest(event))
    }
  })

  it("checks each intact entry's hash as entryHash computes it, and no altered one", async () => {
    const opened = await openTestStorage()
    onTestFinished(() => opened.close())
    const { storage, database } = opened
    await writeTrail(storage, database, fixtureSpecs(now))
    const checked = async () =>
      queryRows<{ entries: string; checked: string }>(storage, {
        query: `SELECT toString(count()) AS entries, toString(sum(toUInt8(${entryHashCheckedSql}))) AS checked FROM ${database}.audit_chain
SETTINGS ${jsonSettings.join(', ')}`,
        params: {},
      })
    expect(await checked()).toEqual([{ entries: '100', checked: '100' }])
    await storage.client.command({
      query: `ALTER TABLE ${database}.audit_chain UPDATE prev_hash = upper(prev_hash) WHERE seq = 3`,
      clickhouse_settings: { mutations_sync: '2' },
    })
    expect(await checked()).toEqual([{ entries: '100', checked: '97' }])
  })
})
