import { createHmac, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEventJson, redactEvent, sealedValuePattern, type AuditEvent } from '@audit-pipeline/event-model'
import {
  openEvents,
  openLocalKeyStore,
  parseSealedValue,
  sealEvent,
  type KeyStore,
} from '@audit-pipeline/field-encryption'
import { isOutage } from '@audit-pipeline/kafka'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it, onTestFinished } from 'vitest'
import { applyRedactionPolicy } from './applyRedactionPolicy.js'
import { KeyStoreUnavailableError } from './keyStoreOutage.js'
import { defaultRedactionPolicy, parseRedactionPolicy, type RedactionPolicy } from './redactionPolicy.js'

/** The ticket 9548-B1 story (schemas/examples), in canonical form: created, priority raised, lowered with a solution. */
const [created, raised, lowered] = ticketExampleLines().map((line): AuditEvent => ({
  recorded_at: Date.parse('2024-03-17T00:00:00Z'),
  ...parseEventJson(JSON.parse(line)),
})) as [AuditEvent, AuditEvent, AuditEvent]

const solution = "Use the print dialog's Save as PDF until the fix ships."
const hmacKey = 'normalizer-test-key'

/** What the `hash` method writes for a value: the HMAC of its canonical JSON text (redactMethod.ts). */
const hashOf = (value: unknown, key = hmacKey) =>
  `hmac-sha256:${createHmac('sha256', key).update(JSON.stringify(value), 'utf8').digest('hex')}`

const policyYaml = `
default: { method: drop, sensitive_fields: [title] }
tenants:
  witify: { method: hash, sensitive_fields: [solution] }
`

const policy = parseRedactionPolicy(policyYaml, 'redaction.yaml', { hmacKey })

const snapshot = (text: string | null): Record<string, unknown> =>
  JSON.parse(text ?? 'null') as Record<string, unknown>

/** A local key store in a folder of its own, removed after the test; the same folder and KEK reopen it. */
function localKeyStore(): { keys: KeyStore; reopen: () => KeyStore } {
  const directory = mkdtempSync(join(tmpdir(), 'normalizer-keys-'))
  onTestFinished(() => rmSync(directory, { recursive: true, force: true }))
  const keyEncryptionKey = randomBytes(32)
  const reopen = () => openLocalKeyStore({ directory, keyEncryptionKey })
  return { keys: reopen(), reopen }
}

/** A key store every call of which fails, as a folder it cannot write or a KMS that does not answer. */
function failingKeyStore(
  failure = new Error('EACCES: permission denied, mkdir /var/lib/audit/keys'),
): KeyStore {
  const fail = () => Promise.reject(failure)
  return { dataKeyFor: fail, keyById: fail, indexKeyFor: fail, erase: fail }
}

const encryptYaml = `
default: { method: drop }
tenants:
  witify: { method: encrypt, sensitive_fields: [solution] }
  acme: { method: hash, sensitive_fields: [solution] }
`
const encrypting = parseRedactionPolicy(encryptYaml, 'redaction.yaml', { hmacKey, fieldKeys: true })

describe('applyRedactionPolicy', () => {
  it('adds the tenant’s paths to sensitive_fields and hashes their values in changes and snapshots', async () => {
    const redacted = await applyRedactionPolicy(lowered, policy)
    expect(redacted.sensitive_fields).toEqual(['solution'])
    expect(redacted.changes).toEqual([
      lowered.changes[0], // priority: not sensitive, untouched
      {
        path: 'solution',
        old_value: null,
        new_value: JSON.stringify(hashOf(solution)),
        value_type: 'string',
      },
    ])
    expect(snapshot(redacted.after)).toEqual({ ...snapshot(lowered.after), solution: hashOf(solution) })
    expect(redacted.before).toBe(lowered.before) // had no solution
    // Nothing but the sensitive parts changes.
    expect({ ...redacted, changes: [], after: null, sensitive_fields: [] }).toEqual({
      ...lowered,
      changes: [],
      after: null,
      sensitive_fields: [],
    })
  })

  it('does not modify the event it is given', async () => {
    const copy = structuredClone(lowered)
    await applyRedactionPolicy(lowered, policy)
    expect(lowered).toEqual(copy)
  })

  it('applies the default to tenants not listed, and only the listed tenant’s rule to a listed one', async () => {
    const other = await applyRedactionPolicy({ ...created, tenant: 'acme' }, policy)
    expect(other.sensitive_fields).toEqual(['title'])
    expect(other.changes.find((change) => change.path === 'title')?.new_value).toBe('"[redacted]"')
    expect(snapshot(other.after)['title']).toBe('[redacted]')

    // witify's rule replaces the default rather than adding to it: its titles stay visible.
    const witify = await applyRedactionPolicy(created, policy)
    expect(witify.sensitive_fields).toEqual(['solution'])
    expect(witify.changes).toEqual(created.changes)
    expect(snapshot(witify.after)['title']).toBe('Export to PDF fails')
  })

  it('adds only the paths the event does not already list', async () => {
    const event = { ...lowered, sensitive_fields: ['solution'] }
    expect((await applyRedactionPolicy(event, policy)).sensitive_fields).toEqual(['solution'])
    const withOwn = { ...lowered, sensitive_fields: ['priority'] }
    expect((await applyRedactionPolicy(withOwn, policy)).sensitive_fields).toEqual(['priority', 'solution'])
  })

  it('redacts an event’s own sensitive fields with the tenant’s method even when the policy adds none', async () => {
    const event = { ...lowered, sensitive_fields: ['priority'] }
    const redacted = await applyRedactionPolicy(event, defaultRedactionPolicy)
    expect(redacted.changes[0]).toEqual({
      path: 'priority',
      old_value: '"[redacted]"',
      new_value: '"[redacted]"',
      value_type: 'string',
    })
  })

  it('returns an event with nothing sensitive as it is', async () => {
    expect(await applyRedactionPolicy(lowered, defaultRedactionPolicy)).toBe(lowered)
  })

  it('hashes deterministically: equal across calls and equal for one value wherever it appears', async () => {
    const first = await applyRedactionPolicy(structuredClone(lowered), policy)
    const second = await applyRedactionPolicy(structuredClone(lowered), policy)
    expect(second).toEqual(first)
    expect(JSON.parse(first.changes[1]?.new_value ?? 'null')).toBe(snapshot(first.after)['solution'])
    // Another key gives another string.
    const otherKey = parseRedactionPolicy(policyYaml, 'redaction.yaml', { hmacKey: 'another-key' })
    expect((await applyRedactionPolicy(lowered, otherKey)).after).not.toBe(first.after)
  })

  it('leaves an event a producer already redacted as it is, whatever the method', async () => {
    const byProducer = redactEvent(
      { ...lowered, sensitive_fields: ['solution'] },
      {
        mode: 'hash',
        hmacKey: 'producer-key',
      },
    )
    expect(snapshot(byProducer.after)['solution']).toBe(hashOf(solution, 'producer-key'))
    const drop = parseRedactionPolicy('tenants: { witify: { sensitive_fields: [solution] } }', 'r.yaml')
    expect(await applyRedactionPolicy(byProducer, policy)).toEqual(byProducer)
    expect(await applyRedactionPolicy(byProducer, drop)).toEqual(byProducer)
  })

  it('is idempotent: a second pass changes nothing', async () => {
    const once = await applyRedactionPolicy(lowered, policy)
    expect(await applyRedactionPolicy(once, policy)).toEqual(once)
    const dropped = await applyRedactionPolicy({ ...created, tenant: 'acme' }, policy)
    expect(await applyRedactionPolicy(dropped, policy)).toEqual(dropped)
  })

  it('redacts paths under a sensitive object and array items by pattern', async () => {
    const event: AuditEvent = {
      ...created,
      tenant: 'shop',
      changes: [],
      before: null,
      after: JSON.stringify({
        customer: { email: 'a@example.com', name: 'A' },
        cards: [{ number: '4111', exp: '12/30' }],
      }),
    }
    const shop: RedactionPolicy = parseRedactionPolicy(
      'tenants: { shop: { sensitive_fields: [customer.email, "cards[*].number"] } }',
      'redaction.yaml',
    )
    expect(snapshot((await applyRedactionPolicy(event, shop)).after)).toEqual({
      customer: { email: '[redacted]', name: 'A' },
      cards: [{ number: '[redacted]', exp: '12/30' }],
    })
  })
})

describe('applyRedactionPolicy: encrypt', () => {
  it('seals the tenant’s sensitive values in changes and snapshots, leaving paths and types readable', async () => {
    const { keys } = localKeyStore()
    const sealed = await applyRedactionPolicy(lowered, encrypting, keys)
    expect(sealed.sensitive_fields).toEqual(['solution'])
    expect(sealed.changes.map(({ path, value_type }) => [path, value_type])).toEqual(
      lowered.changes.map(({ path, value_type }) => [path, value_type]),
    )
    expect(sealed.changes[0]).toEqual(lowered.changes[0]) // priority: not sensitive
    const inChange = JSON.parse(sealed.changes[1]?.new_value ?? 'null') as string
    const inSnapshot = snapshot(sealed.after)['solution'] as string
    expect(inChange).toMatch(sealedValuePattern)
    expect(inSnapshot).toBe(inChange)
    expect(sealed.changes[1]?.old_value).toBeNull() // appeared: still visible
    expect(JSON.stringify(sealed)).not.toContain('Save as PDF')
    // Those who may read it open it back to the event as it was.
    const [opened] = await openEvents([sealed], keys)
    expect(opened).toEqual({ ...lowered, sensitive_fields: ['solution'] })
  })

  it('seals under the subject’s key: actor by default, the record when asked', async () => {
    const { keys } = localKeyStore()
    const keyIdOf = async (event: AuditEvent, rules: RedactionPolicy) => {
      const sealed = await applyRedactionPolicy(event, rules, keys)
      return parseSealedValue(snapshot(sealed.after)['solution'] as string)?.keyId
    }
    const other = { ...lowered, actor: { ...lowered.actor, id: 'someone-else' } }
    expect(await keyIdOf(lowered, encrypting)).toBe(await keyIdOf(structuredClone(lowered), encrypting))
    expect(await keyIdOf(other, encrypting)).not.toBe(await keyIdOf(lowered, encrypting))
    const byRecord = parseRedactionPolicy(
      'tenants: { witify: { method: encrypt, subject: record, sensitive_fields: [solution] } }',
      'r.yaml',
      { fieldKeys: true },
    )
    expect(await keyIdOf(other, byRecord)).toBe(await keyIdOf(lowered, byRecord))
  })

  it('is deterministic: the same event sealed again, or by a restarted process, is the same bytes', async () => {
    const { keys, reopen } = localKeyStore()
    const first = JSON.stringify(await applyRedactionPolicy(structuredClone(lowered), encrypting, keys))
    const again = JSON.stringify(await applyRedactionPolicy(structuredClone(lowered), encrypting, keys))
    const restarted = JSON.stringify(
      await applyRedactionPolicy(structuredClone(lowered), encrypting, reopen()),
    )
    expect(again).toBe(first)
    expect(restarted).toBe(first)
  })

  it('leaves values the SDK sealed as they are, and is idempotent', async () => {
    const { keys } = localKeyStore()
    const bySdk = await sealEvent({ ...lowered, sensitive_fields: ['solution'] }, keys, { kind: 'actor' })
    expect(await applyRedactionPolicy(bySdk, encrypting, keys)).toEqual(bySdk)
    // Whatever the tenant's method: a sealed value is a replacement already.
    expect(await applyRedactionPolicy({ ...bySdk, tenant: 'acme' }, encrypting)).toEqual({
      ...bySdk,
      tenant: 'acme',
    })
    expect(await applyRedactionPolicy(bySdk, defaultRedactionPolicy)).toEqual(bySdk)
    const once = await applyRedactionPolicy(lowered, encrypting, keys)
    expect(await applyRedactionPolicy(once, encrypting, keys)).toEqual(once)
  })

  it('leaves drop and hash tenants as they were, never asking the key store', async () => {
    const keys = failingKeyStore()
    const hashed = await applyRedactionPolicy({ ...lowered, tenant: 'acme' }, encrypting, keys)
    expect(snapshot(hashed.after)['solution']).toBe(hashOf(solution))
    const dropped = await applyRedactionPolicy(
      { ...lowered, tenant: 'other', sensitive_fields: ['solution'] },
      encrypting,
      keys,
    )
    expect(snapshot(dropped.after)['solution']).toBe('[redacted]')
    // An encrypting tenant's event with nothing sensitive does not need the store either.
    const plain = { ...raised, sensitive_fields: [] }
    const unlisted = parseRedactionPolicy('default: { method: encrypt }', 'r.yaml', { fieldKeys: true })
    expect(await applyRedactionPolicy(plain, unlisted, keys)).toBe(plain)
  })

  it('lists the paths of an event left with no value (informative level 2) without asking the store', async () => {
    const pathsOnly: AuditEvent = {
      ...lowered,
      changes: [
        { path: 'solution', old_value: null, new_value: null, value_type: 'string' },
        {
          path: 'customer.emails["bob@example.com"]',
          old_value: null,
          new_value: null,
          value_type: 'object',
        },
      ],
      before: null,
      after: null,
    }
    const withEmails = parseRedactionPolicy(
      'tenants: { witify: { method: encrypt, sensitive_fields: [solution, customer.emails] } }',
      'r.yaml',
      { fieldKeys: true },
    )
    expect(await applyRedactionPolicy(pathsOnly, withEmails, failingKeyStore())).toEqual({
      ...pathsOnly,
      sensitive_fields: ['solution', 'customer.emails'],
      // Merged as for any event, so the path names no key under the sensitive one.
      changes: [
        { path: 'solution', old_value: null, new_value: null, value_type: 'string' },
        { path: 'customer.emails', old_value: null, new_value: null, value_type: 'object' },
      ],
    })
  })

  it('turns a failing key store into a retriable KeyStoreUnavailableError, an outage, never a result', async () => {
    const failure = new Error('EACCES: permission denied, mkdir /var/lib/audit/keys')
    const attempt = applyRedactionPolicy(lowered, encrypting, failingKeyStore(failure))
    await expect(attempt).rejects.toBeInstanceOf(KeyStoreUnavailableError)
    const error = (await attempt.catch((caught: unknown) => caught)) as KeyStoreUnavailableError
    expect([error.code, error.retriable, error.cause]).toEqual(['KEY_STORE_UNAVAILABLE', true, failure])
    expect(error.message).toMatch(/^the field key store failed \((dataKeyFor|indexKeyFor)\): Error: EACCES/)
    // The consumer runtime's own test: held and retried, not dead-lettered.
    expect(isOutage(error)).toBe(true)
  })

  it('refuses to run an encrypting rule without a key store: a wiring bug, not an outage', async () => {
    const attempt = applyRedactionPolicy(lowered, encrypting)
    await expect(attempt).rejects.toThrow(
      /tenant witify encrypts sensitive values, but no key store was given/,
    )
    await expect(attempt).rejects.not.toBeInstanceOf(KeyStoreUnavailableError)
  })
})

describe('applyRedactionPolicy: no sensitive key in a change path', () => {
  const address = 'bob@example.com'
  const shop = (method: string) =>
    parseRedactionPolicy(
      `tenants: { shop: { method: ${method}, sensitive_fields: [customer.emails] } }`,
      'r.yaml',
      { hmacKey, fieldKeys: true },
    )
  /** A producer's own change list, spelling an address out in a path under the sensitive map. */
  const event: AuditEvent = {
    ...created,
    tenant: 'shop',
    changes: [
      {
        path: 'customer.emails["bob@example.com"]',
        old_value: null,
        new_value: '{"verified":true}',
        value_type: 'object',
      },
      { path: 'customer.name', old_value: '"Bob"', new_value: '"Robert"', value_type: 'string' },
    ],
    before: null,
    after: null,
  }

  it.each(['drop', 'hash', 'encrypt'])(
    'with %s, reports the change at the sensitive path, its key hidden',
    async (method) => {
      const { keys } = localKeyStore()
      const redacted = await applyRedactionPolicy(event, shop(method), keys)
      expect(redacted.changes.map(({ path, value_type }) => [path, value_type])).toEqual([
        ['customer.emails', 'object'],
        ['customer.name', 'string'],
      ])
      expect(redacted.changes[0]?.old_value).toBeNull()
      expect(JSON.stringify(redacted)).not.toContain(address)
      expect(JSON.stringify(redacted)).not.toContain('bob@')
    },
  )

  it('keeps the merged change readable to those who may open it', async () => {
    const { keys } = localKeyStore()
    const [opened] = await openEvents([await applyRedactionPolicy(event, shop('encrypt'), keys)], keys)
    expect(JSON.parse(opened?.changes[0]?.new_value ?? 'null')).toEqual({
      [`["${address}"]`]: { verified: true },
    })
  })
})
