import { mkdtempSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { droppedValue, erasedValue, redactEvent, type AuditEvent } from '@audit-pipeline/event-model'
import { openLocalKeyStore } from './localKeyStore.js'
import { hideSealedValues, holdsSealedValues, openEvents, unreadableValue } from './openEvent.js'
import { sealEvent } from './sealEvent.js'
import { parseSubjectRule, subjectOf } from './subjectRule.js'

const store = () =>
  openLocalKeyStore({ directory: mkdtempSync(join(tmpdir(), 'seal-')), keyEncryptionKey: randomBytes(32) })

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    event_id: '7d444840-9dc0-11d1-b245-5ffdce74fad2',
    occurred_at: 1_700_000_000_000,
    recorded_at: 1_700_000_000_500,
    tenant: 'acme',
    source: { service: 'crm', instance: null, version: null },
    actor: {
      type: 'user',
      id: 'u-1',
      display_name: 'Alex',
      roles: [],
      ip: null,
      user_agent: null,
      session_id: null,
    },
    on_behalf_of: null,
    action: { kind: 'update', name: 'customer.update' },
    category: 'business',
    object: { type: 'customer', id: 'c-9', id2: null, id3: null, label: null },
    changes: [
      {
        path: 'email',
        old_value: '"alice@old.example"',
        new_value: '"alice@example.com"',
        value_type: 'string',
      },
      { path: 'tier', old_value: '"gold"', new_value: '"platinum"', value_type: 'string' },
      {
        path: 'address',
        old_value: null,
        new_value: '{"city":"Springfield","zip":"49007"}',
        value_type: 'object',
      },
    ],
    before: '{"email":"alice@old.example","tier":"gold"}',
    after: '{"email":"alice@example.com","tier":"platinum","address":{"city":"Springfield","zip":"49007"}}',
    outcome: { status: 'success', reason: null },
    severity: 'info',
    correlation: { trace_id: null, request_id: null },
    attributes: { customer_id: 'cust-42' },
    sensitive_fields: ['email', 'address.zip'],
    ...overrides,
  }
}

const plaintexts = ['alice@old.example', 'alice@example.com', '49007']

describe('sealing and opening events', () => {
  it('seals the sensitive values only, and opens them back to the event as sent', async () => {
    const keys = store()
    const original = event()
    const sealed = await sealEvent(original, keys, { kind: 'actor' })
    const stored = JSON.stringify(sealed)
    for (const plaintext of plaintexts) expect(stored).not.toContain(plaintext)
    expect(sealed.changes.map((change) => change.path)).toEqual(['email', 'tier', 'address'])
    expect(sealed.changes[1]).toEqual(original.changes[1])
    expect(JSON.parse(sealed.changes[2]!.new_value!)).toMatchObject({ city: 'Springfield' })
    expect(holdsSealedValues(sealed)).toBe(true)
    const [opened] = await openEvents([sealed], keys)
    expect(opened).toEqual(original)
  })

  it('is idempotent and deterministic, so a second sealing or a re-run changes nothing', async () => {
    const keys = store()
    const once = await sealEvent(event(), keys, { kind: 'actor' })
    expect(await sealEvent(once, keys, { kind: 'actor' })).toEqual(once)
    expect(await sealEvent(event(), keys, { kind: 'actor' })).toEqual(once)
    // Drop and hash leave sealed values alone too.
    expect(redactEvent(once, { mode: 'drop' })).toEqual(once)
    expect(redactEvent(once, { mode: 'hash', hmacKey: 'k' })).toEqual(once)
  })

  it('shows erased values as [erased], only for the erased subject', async () => {
    const keys = store()
    const alice = await sealEvent(event(), keys, { kind: 'actor' })
    const bob = await sealEvent(
      event({ event_id: '9a1c2f10-0000-4000-8000-000000000002', actor: { ...event().actor, id: 'u-2' } }),
      keys,
      { kind: 'actor' },
    )
    await keys.erase('acme', 'u-1')
    const [erased, kept] = await openEvents([alice, bob], keys)
    expect(erased?.changes[0]).toMatchObject({
      old_value: JSON.stringify(erasedValue),
      new_value: JSON.stringify(erasedValue),
    })
    expect(JSON.parse(erased!.after!)).toMatchObject({ email: erasedValue, address: { zip: erasedValue } })
    expect(kept?.changes[0]?.new_value).toBe('"alice@example.com"')
  })

  it('shows a value moved to another event, tenant or forged as [unreadable]', async () => {
    const keys = store()
    const sealed = await sealEvent(event(), keys, { kind: 'actor' })
    const moved = { ...sealed, event_id: '9a1c2f10-0000-4000-8000-000000000003' }
    const otherTenant = { ...sealed, tenant: 'globex' }
    const forged = {
      ...sealed,
      changes: [
        {
          ...sealed.changes[0]!,
          new_value: '"enc:v1:kForged:0123456789abcdef:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"',
        },
      ],
    }
    const opened = await openEvents([moved, otherTenant, forged], keys)
    for (const event of opened) expect(event.changes[0]?.new_value).toBe(JSON.stringify(unreadableValue))
  })

  it('hides every sealed value from readers without the right', async () => {
    const sealed = await sealEvent(event(), store(), { kind: 'actor' })
    const hidden = hideSealedValues(sealed)
    expect(hidden.changes[0]).toMatchObject({
      old_value: JSON.stringify(droppedValue),
      new_value: JSON.stringify(droppedValue),
    })
    expect(hidden.changes[1]).toEqual(sealed.changes[1])
    expect(holdsSealedValues(hidden)).toBe(false)
  })

  it('leaves events with nothing sensitive alone, without a key', async () => {
    const keys = store()
    const plain = event({ sensitive_fields: [] })
    expect(await sealEvent(plain, keys, { kind: 'actor' })).toBe(plain)
    expect(await openEvents([plain], keys)).toEqual([plain])
  })

  it('keys a subject by actor, record or attribute, with the record as the fallback', () => {
    const e = event()
    expect(subjectOf(e, parseSubjectRule('actor'))).toBe('u-1')
    expect(subjectOf(e, parseSubjectRule('record'))).toBe('customer/c-9')
    expect(subjectOf(e, parseSubjectRule('attribute:customer_id'))).toBe('cust-42')
    expect(subjectOf(e, parseSubjectRule('attribute:missing'))).toBe('customer/c-9')
    expect(subjectOf(event({ attributes: {} }), parseSubjectRule('attribute:__proto__'))).toBe('customer/c-9')
    for (const bad of ['', 'user', 'attribute:', 'Actor']) {
      expect(() => parseSubjectRule(bad)).toThrow(/expected actor, record or attribute:<name>/)
    }
  })
})
