import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { openLocalKeyStore, sealEvent, type KeyStore } from '@audit-pipeline/field-encryption'
import {
  bearer,
  emailChange,
  queryApiFixture,
  signIns,
  ticketEvents,
  type TestKeyName,
} from './testSupport/queryApiFixture.js'

/**
 * The customer's e-mail change sealed as the normalizer seals it (its data subject: the record),
 * stored beside events with nothing sealed, and the API over it with a key store of its own on
 * the same folder and key-encryption key, as a separate process would have.
 */
async function sealedFixture(options: { apiHasKeys?: boolean } = {}) {
  const directory = await mkdtemp(join(tmpdir(), 'query-api-field-keys-'))
  onTestFinished(() => rm(directory, { recursive: true, force: true }))
  const keyEncryptionKey = randomBytes(32)
  const sealer = openLocalKeyStore({ directory, keyEncryptionKey })
  const sealed = await sealEvent(emailChange, sealer, { kind: 'record' })
  expect(JSON.stringify(sealed)).not.toContain('rita@')
  const apiKeys: KeyStore = openLocalKeyStore({ directory, keyEncryptionKey, cacheMs: 0 })
  const fixture = await queryApiFixture({
    events: [...ticketEvents, sealed, ...signIns],
    ...(options.apiHasKeys !== false && { fieldKeys: apiKeys }),
  })
  return { ...fixture, sealer, erase: () => sealer.erase('acme', 'customer/c-1') }
}

type App = Awaited<ReturnType<typeof queryApiFixture>>['app']

const eventAnswers = [
  '/v1/events?object_type=customer',
  '/v1/objects/customer/c-1/timeline',
  '/v1/export?object_type=customer',
  '/v1/export?object_type=customer&format=csv',
]
const stateUrl = '/v1/objects/customer/c-1/state'

async function read(app: App, url: string, key: TestKeyName) {
  const response = await app.inject({ url, headers: bearer(key) })
  expect(response.statusCode, `${key} ${url}: ${response.body}`).toBe(200)
  return response.body
}

async function emailState(app: App, key: TestKeyName): Promise<unknown> {
  const state = JSON.parse(await read(app, stateUrl, key)) as { fields: { path: string; value: unknown }[] }
  return state.fields.find((field) => field.path === 'email')?.value
}

async function found(app: App, query: string, key: TestKeyName): Promise<string[]> {
  const page = JSON.parse(await read(app, `/v1/events?${query}`, key)) as { events: { event_id: string }[] }
  return page.events.map((event) => event.event_id)
}

describe('sealed values', () => {
  it('are opened for auditors in search, timeline, export and state', async () => {
    const { app } = await sealedFixture()
    for (const key of ['auditor', 'acmeAuditor'] as const) {
      for (const url of eventAnswers) {
        const body = await read(app, url, key)
        expect(body, `${key} ${url}`).toContain('rita@new.example')
        expect(body, `${key} ${url}`).toContain('rita@old.example')
        expect(body, `${key} ${url}`).not.toContain('enc:v1:')
      }
      expect(await emailState(app, key)).toBe('rita@new.example')
    }
    const page = JSON.parse(await read(app, eventAnswers[0]!, 'auditor')) as {
      events: { changes: { path: string }[]; after: string }[]
    }
    expect(page.events[0]!.changes.find((change) => change.path === 'email')).toEqual({
      path: 'email',
      old_value: '"rita@old.example"',
      new_value: '"rita@new.example"',
      value_type: 'string',
    })
    expect(JSON.parse(page.events[0]!.after)).toMatchObject({ email: 'rita@new.example', tier: 'platinum' })
  })

  it('are [redacted] for analysts, and never opened for them', async () => {
    const { app } = await sealedFixture()
    for (const key of ['analyst', 'acmeAnalyst'] as const) {
      for (const url of [...eventAnswers, stateUrl]) {
        const body = await read(app, url, key)
        expect(body, `${key} ${url}`).not.toContain('rita@')
        expect(body, `${key} ${url}`).not.toContain('enc:v1:')
        expect(body, `${key} ${url}`).toContain('[redacted]')
        expect(body, `${key} ${url}`).toContain('platinum')
      }
      expect(await emailState(app, key)).toBe('[redacted]')
    }
  })

  it('are returned by SQL as stored: ciphertext, for everyone allowed SQL', async () => {
    const { app } = await sealedFixture()
    for (const sql of [
      "SELECT changes, before, after FROM audit_events_deduplicated WHERE object_type = 'customer'",
      "SELECT old_value, new_value FROM audit_changes WHERE path = 'email'",
    ]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/sql',
        headers: bearer('auditor'),
        payload: { sql },
      })
      expect(response.statusCode, response.body).toBe(200)
      expect(response.rawPayload.includes('rita@')).toBe(false)
      expect(response.body).toContain('enc:v1:')
    }
  })

  it('read [erased] from the request after the subject is erased', async () => {
    const { app, erase } = await sealedFixture()
    expect(await read(app, eventAnswers[1]!, 'auditor')).toContain('rita@new.example')
    const erasure = await erase()
    expect(erasure.keyIds).toHaveLength(1)
    for (const url of eventAnswers) {
      const body = await read(app, url, 'auditor')
      expect(body, url).not.toContain('rita@')
      expect(body, url).toContain('[erased]')
      // What was not sealed stays readable.
      expect(body, url).toContain('platinum')
    }
    expect(await emailState(app, 'auditor')).toBe('[erased]')
    expect(await emailState(app, 'analyst')).toBe('[redacted]')
  })

  it('are found by value for auditors, by their blind index, until the subject is erased', async () => {
    const { app, erase } = await sealedFixture()
    const changedTo = 'changed=email&to=rita%40new.example'
    // A key of every tenant, a tenant named, a key of one tenant.
    for (const [query, key] of [
      [changedTo, 'auditor'],
      [`${changedTo}&tenant=acme`, 'auditor'],
      [changedTo, 'acmeAuditor'],
      ['changed=email&from=rita%40old.example&to=rita%40new.example', 'auditor'],
      ['changed=email&from=rita%40old.example', 'acmeAuditor'],
    ] as const) {
      expect(await found(app, query, key), `${key} ${query}`).toEqual([emailChange.event_id])
    }
    expect(await found(app, 'changed=email&to=rita%40other.example', 'auditor')).toEqual([])
    expect(await found(app, 'changed=email&from=rita%40new.example', 'auditor')).toEqual([])
    expect(await found(app, `${changedTo}&tenant=witify`, 'auditor')).toEqual([])
    // Analysts cannot search by a value they may not read.
    expect(await found(app, changedTo, 'analyst')).toEqual([])
    expect(await found(app, changedTo, 'acmeAnalyst')).toEqual([])
    // Values in the clear are found as before.
    expect(await found(app, 'changed=tier&to=platinum', 'auditor')).toEqual([emailChange.event_id])
    expect(await read(app, `/v1/export?${changedTo}`, 'auditor')).toContain('rita@new.example')

    // The blind index outlives the erasure; the search does not confirm a value no one can read.
    await erase()
    expect(await found(app, changedTo, 'auditor')).toEqual([])
    expect(await found(app, changedTo, 'acmeAuditor')).toEqual([])
    expect(await read(app, `/v1/export?${changedTo}`, 'auditor')).toBe('')
    expect(await found(app, 'changed=tier&to=platinum', 'auditor')).toEqual([emailChange.event_id])
  })

  it('reach auditors as stored when the API has no key store', async () => {
    const { app } = await sealedFixture({ apiHasKeys: false })
    for (const url of eventAnswers) {
      const body = await read(app, url, 'auditor')
      expect(body, url).not.toContain('rita@')
      expect(body, url).toContain('enc:v1:')
    }
    expect(await found(app, 'changed=email&to=rita%40new.example', 'auditor')).toEqual([])
    const analyst = await read(app, eventAnswers[0]!, 'analyst')
    expect(analyst).not.toContain('enc:v1:')
    expect(analyst).toContain('[redacted]')
  })
})
