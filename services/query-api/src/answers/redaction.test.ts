import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { eventRow } from '@audit-pipeline/clickhouse-schema'
import { KeyStoreError, openLocalKeyStore, sealEvent, type KeyStore } from '@audit-pipeline/field-encryption'
import { createEventBuilder } from '@audit-pipeline/producer'
import { parseAnalystVisibility } from '../access/analystVisibilityFile.js'
import type { StoredEventRow } from './eventRow.js'
import { rowForRole, rowForVisibility, rowsForReader } from './redaction.js'

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

const build = createEventBuilder(
  { source: { service: 'crm' }, category: 'business', snapshots: true },
  { now: () => Date.parse('2024-03-20T00:00:00Z'), newEventId: () => '00000000-0000-4000-8000-000000000000' },
)

const emailChange = build.updated(
  { type: 'customer', id: 'c-1' },
  { email: 'rita@old.example', tier: 'gold' },
  { email: 'rita@new.example', tier: 'platinum' },
  {
    tenant: 'acme',
    actor: { id: 'u-7' },
    sensitiveFields: ['email'],
    eventId: '00000000-0000-4000-8000-000000000100',
    occurredAt: Date.parse('2024-03-15T10:00:00Z'),
  },
)!

const rowOf = (event: typeof emailChange): StoredEventRow =>
  eventRow(event, { topic: 'audit.normalized', partition: 0, offset: '0' })

const folders: string[] = []
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true })
})

async function keyStore(): Promise<KeyStore> {
  const directory = await mkdtemp(join(tmpdir(), 'query-api-field-keys-'))
  folders.push(directory)
  return openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32), cacheMs: 0 })
}

/** The row's values, parsed: what a reader is shown of them. */
const valuesOf = (row: StoredEventRow) => ({
  changes: row.changes.map((change) => ({
    path: change.path,
    old: change.old_value === null ? null : (JSON.parse(change.old_value) as unknown),
    new: change.new_value === null ? null : (JSON.parse(change.new_value) as unknown),
  })),
  before: JSON.parse(row.before!) as unknown,
  after: JSON.parse(row.after!) as unknown,
})

/** A key store an analyst's answer must never ask. */
const untouchable: KeyStore = new Proxy({} as KeyStore, {
  get: () => () => {
    throw new Error('the key store was asked')
  },
})

describe('rowsForReader', () => {
  it('opens sealed values for an auditor, and shows them as stored without a key store', async () => {
    const keys = await keyStore()
    const sealed = rowOf(await sealEvent(emailChange, keys, { kind: 'record' }))
    expect(JSON.stringify(sealed)).not.toContain('rita@')
    expect(sealed.after).toContain('enc:v1:')

    const [opened] = await rowsForReader([sealed], { role: 'auditor', fieldKeys: keys })
    expect(valuesOf(opened!)).toEqual(valuesOf(rowOf(emailChange)))
    // Nothing but the values changes.
    expect({ ...opened!, changes: [], before: null, after: null }).toEqual({
      ...sealed,
      changes: [],
      before: null,
      after: null,
    })

    const [asStored] = await rowsForReader([sealed], { role: 'auditor', fieldKeys: undefined })
    expect(asStored).toEqual(sealed)
  })

  it('shows an analyst every sealed value as [redacted], at any path, without asking the key store', async () => {
    const keys = await keyStore()
    const sealed = rowOf(await sealEvent(emailChange, keys, { kind: 'record' }))
    // A sealed value the event does not mark sensitive (copied by hand into `tier`) is hidden too.
    const sealedEmail = sealed.changes.find((change) => change.path === 'email')!.new_value!
    const elsewhere: StoredEventRow = {
      ...sealed,
      changes: sealed.changes.map((change) =>
        change.path === 'tier' ? { ...change, new_value: sealedEmail } : change,
      ),
    }
    for (const fieldKeys of [undefined, untouchable]) {
      const shown = await rowsForReader([sealed, elsewhere], { role: 'analyst', fieldKeys })
      const text = JSON.stringify(shown)
      expect(text).not.toContain('rita@')
      expect(text).not.toContain('enc:v1:')
      expect(valuesOf(shown[0]!)).toEqual({
        changes: [
          { path: 'email', old: '[redacted]', new: '[redacted]' },
          { path: 'tier', old: 'gold', new: 'platinum' },
        ],
        before: { email: '[redacted]', tier: 'gold' },
        after: { email: '[redacted]', tier: 'platinum' },
      })
      expect(valuesOf(shown[1]!).changes[1]).toEqual({ path: 'tier', old: 'gold', new: '[redacted]' })
    }
  })

  it('shows [erased] once the subject is erased, on the very next call', async () => {
    const keys = await keyStore()
    const sealed = rowOf(await sealEvent(emailChange, keys, { kind: 'record' }))
    const auditor = { role: 'auditor', fieldKeys: keys } as const
    expect(JSON.stringify(await rowsForReader([sealed], auditor))).toContain('rita@new.example')
    await keys.erase('acme', 'customer/c-1')
    const [erased] = await rowsForReader([sealed], auditor)
    expect(valuesOf(erased!)).toEqual({
      changes: [
        { path: 'email', old: '[erased]', new: '[erased]' },
        { path: 'tier', old: 'gold', new: 'platinum' },
      ],
      before: { email: '[erased]', tier: 'gold' },
      after: { email: '[erased]', tier: 'platinum' },
    })
  })

  it('shows [unreadable] for a sealed value forged, moved to another event or under a key it does not know', async () => {
    const keys = await keyStore()
    const sealed = rowOf(await sealEvent(emailChange, keys, { kind: 'record' }))
    const auditor = { role: 'auditor', fieldKeys: keys } as const
    const email = (row: StoredEventRow) => row.changes.find((change) => change.path === 'email')!
    const sealedNew = JSON.parse(email(sealed).new_value!) as string

    // The same bytes in another event (another id): they do not open there.
    const moved: StoredEventRow = { ...sealed, event_id: '00000000-0000-4000-8000-000000000999' }
    // One character of the payload changed: not the last, whose low bits may be base64 padding
    // a decoder ignores (A and B differ only there when the payload's length leaves 4 such bits).
    const changed = sealedNew.at(-2) === 'A' ? 'B' : 'A'
    const forged: StoredEventRow = {
      ...sealed,
      changes: sealed.changes.map((change) =>
        change.path === 'email'
          ? { ...change, new_value: JSON.stringify(sealedNew.slice(0, -2) + changed + sealedNew.at(-1)!) }
          : change,
      ),
    }
    // A key id this store never made.
    const otherStore = await keyStore()
    const foreign = rowOf(await sealEvent(emailChange, otherStore, { kind: 'record' }))

    const [movedShown, forgedShown, foreignShown] = await rowsForReader([moved, forged, foreign], auditor)
    expect(valuesOf(movedShown!).changes[0]).toEqual({
      path: 'email',
      old: '[unreadable]',
      new: '[unreadable]',
    })
    expect(valuesOf(movedShown!).after).toEqual({ email: '[unreadable]', tier: 'platinum' })
    expect(valuesOf(forgedShown!).changes[0]).toEqual({
      path: 'email',
      old: 'rita@old.example',
      new: '[unreadable]',
    })
    expect(valuesOf(foreignShown!).changes[0]).toEqual({
      path: 'email',
      old: '[unreadable]',
      new: '[unreadable]',
    })
  })

  it('fails, rather than calling values unreadable, when the key store cannot unwrap its keys', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'query-api-field-keys-'))
    folders.push(directory)
    const sealer = openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32) })
    const sealed = rowOf(await sealEvent(emailChange, sealer, { kind: 'record' }))
    const wrongKek = openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32), cacheMs: 0 })
    await expect(rowsForReader([sealed], { role: 'auditor', fieldKeys: wrongKek })).rejects.toThrow(
      KeyStoreError,
    )
  })
})

/** A sign-in with every actor detail, on behalf of another person with theirs, and attributes. */
const signIn = (tenant: string, n: number): StoredEventRow => ({
  ...rowOf(
    build.read(
      { type: 'session', id: `s-${n}` },
      {
        tenant,
        actor: {
          id: 'u-7',
          ip: `203.0.113.${n}`,
          user_agent: `Agent/${n}`,
          session_id: `sess-${n}`,
        },
        onBehalfOf: {
          type: 'user',
          id: 'u-9',
          ip: `198.51.100.${n}`,
          user_agent: `Other/${n}`,
          session_id: `obo-${n}`,
        },
        action: 'session.sign_in',
        category: 'security',
        attributes: { device: `laptop-${n}` },
        eventId: `00000000-0000-4000-8000-00000000020${n}`,
        occurredAt: Date.parse('2024-03-15T11:00:00Z'),
      },
    ),
  ),
})

const details = (row: StoredEventRow) => ({
  ip: row.actor_ip,
  session_id: row.actor_session_id,
  user_agent: row.actor_user_agent,
  on_behalf_of: [row.on_behalf_of_ip, row.on_behalf_of_session_id, row.on_behalf_of_user_agent],
  attributes: row.attributes,
})

describe('analyst visibility of actor details and attributes', () => {
  const visibility = parseAnalystVisibility(
    [
      'default: { ip: hidden, session_id: hidden, user_agent: visible, attributes: visible }',
      'tenants:',
      '  acme: { ip: visible }',
      '  witify: { user_agent: hidden, attributes: hidden }',
    ].join('\n'),
    'visibility.yaml',
  )
  const rows = [signIn('acme', 1), signIn('witify', 2), signIn('globex', 3)]

  it('follows each row’s tenant for an analyst: hidden details null, hidden attributes {}', async () => {
    const [acme, witify, globex] = await rowsForReader(rows, {
      role: 'analyst',
      fieldKeys: untouchable,
      visibility,
    })
    expect(details(acme!)).toEqual({
      ip: '203.0.113.1',
      session_id: null,
      user_agent: 'Agent/1',
      on_behalf_of: ['198.51.100.1', null, 'Other/1'],
      attributes: { device: 'laptop-1' },
    })
    expect(details(witify!)).toEqual({
      ip: null,
      session_id: null,
      user_agent: null,
      on_behalf_of: [null, null, null],
      attributes: {},
    })
    // A tenant the file does not name: the default.
    expect(details(globex!)).toEqual({
      ip: null,
      session_id: null,
      user_agent: 'Agent/3',
      on_behalf_of: [null, null, 'Other/3'],
      attributes: { device: 'laptop-3' },
    })
    // Nothing else changes.
    const stored = rows[2]!
    expect({
      ...globex!,
      actor_ip: stored.actor_ip,
      actor_session_id: stored.actor_session_id,
      on_behalf_of_ip: stored.on_behalf_of_ip,
      on_behalf_of_session_id: stored.on_behalf_of_session_id,
    }).toEqual(stored)
    for (const hidden of ['sess-', 'obo-', '203.0.113.2', '203.0.113.3', 'Agent/2', 'laptop-2']) {
      expect(JSON.stringify([acme, witify, globex])).not.toContain(hidden)
    }
  })

  it('hides IP and session id from an analyst when no visibility is given (the default)', async () => {
    const [shown] = await rowsForReader([rows[0]!], { role: 'analyst', fieldKeys: undefined })
    expect(details(shown!)).toMatchObject({ ip: null, session_id: null, user_agent: 'Agent/1' })
  })

  it('shows an auditor everything, whatever the setting', async () => {
    const everythingHidden = parseAnalystVisibility(
      'default: { ip: hidden, session_id: hidden, user_agent: hidden, attributes: hidden }',
      'v.yaml',
    )
    const shown = await rowsForReader(rows, {
      role: 'auditor',
      fieldKeys: undefined,
      visibility: everythingHidden,
    })
    expect(shown).toEqual(rows)
  })

  it("hides the ip and session_id an access record's request searched by, where they are hidden", () => {
    const access = (filters: string): StoredEventRow => ({
      ...rows[0]!,
      object_type: 'audit_query',
      attributes: { endpoint: 'GET /v1/events', filters, status: '200' },
    })
    const filters = JSON.stringify({ ip: '203.0.113.77', session_id: 'sess-77', actor: 'u-7' })
    const tenantVisibility = {
      ip: 'hidden',
      session_id: 'visible',
      user_agent: 'visible',
      attributes: 'visible',
    } as const
    const shown = rowForVisibility(access(filters), tenantVisibility)
    expect(JSON.parse(shown.attributes['filters']!)).toEqual({
      ip: null,
      session_id: 'sess-77',
      actor: 'u-7',
    })
    expect(shown.attributes['endpoint']).toBe('GET /v1/events')
    // Nothing to hide: as stored.
    expect(
      rowForVisibility(access(filters), { ...tenantVisibility, ip: 'visible' }).attributes['filters'],
    ).toBe(filters)
    // Not the form the API writes: left out rather than guessed at.
    expect(rowForVisibility(access('["203.0.113.77"]'), tenantVisibility).attributes).toEqual({
      endpoint: 'GET /v1/events',
      status: '200',
    })
    // Attributes hidden: none at all.
    expect(
      rowForVisibility(access(filters), { ...tenantVisibility, attributes: 'hidden' }).attributes,
    ).toEqual({})
  })
})
