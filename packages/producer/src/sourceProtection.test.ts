import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AuditError } from '@audit-pipeline/errors'
import { droppedValue, redactedHashPrefix, type AuditEvent } from '@audit-pipeline/event-model'
import {
  KeyStoreError,
  openEvents,
  openLocalKeyStore,
  parseSealedValue,
  type KeyStore,
} from '@audit-pipeline/field-encryption'
import { createEventBuilder } from './eventBuilder.js'
import { ProducerError } from './producerError.js'
import { keyStoreFailureRetriable, sourceProtection } from './sourceProtection.js'

const localStore = () =>
  openLocalKeyStore({
    directory: mkdtempSync(join(tmpdir(), 'producer-keys-')),
    keyEncryptionKey: randomBytes(32),
  })

/** A key store whose every key request fails with `failure`, counting the requests. */
function failingStore(failure: Error): KeyStore & { calls: number } {
  const store = {
    calls: 0,
    dataKeyFor: () => {
      store.calls++
      return Promise.reject(failure)
    },
    indexKeyFor: () => {
      store.calls++
      return Promise.reject(failure)
    },
    keyById: () => Promise.resolve({ state: 'unknown' as const }),
    erase: () => Promise.reject(failure),
  }
  return store
}

const build = createEventBuilder(
  { tenant: 'acme', source: { service: 'crm' }, category: 'business', snapshots: true },
  { now: () => 1_700_000_000_000, newEventId: () => '7d444840-9dc0-41d1-b245-5ffdce74fad2' },
)
const customerUpdate = (actorId = 'u-1'): AuditEvent =>
  build.updated(
    { type: 'customer', id: 'c-9' },
    { email: 'alice@old.example', tier: 'gold' },
    { email: 'alice@example.com', tier: 'platinum' },
    { actor: { id: actorId }, sensitiveFields: ['email'] },
  )!

describe('sourceProtection', () => {
  it('drops sensitive values by default, and hashes them when asked', async () => {
    const dropped = await sourceProtection({})(customerUpdate())
    expect(dropped.changes.find((c) => c.path === 'email')?.new_value).toBe(JSON.stringify(droppedValue))
    const hashed = await sourceProtection({ redaction: { mode: 'hash', hmacKey: 'k' } })(customerUpdate())
    expect(hashed.changes.find((c) => c.path === 'email')?.new_value).toContain(redactedHashPrefix)
  })

  it("seals them under the actor's key by default, readable again with the store", async () => {
    const keys = localStore()
    const original = customerUpdate()
    const sealed = await sourceProtection({ encryption: { keys } })(original)
    const text = JSON.stringify(sealed)
    expect(text).not.toContain('alice@')
    expect(sealed.changes.find((c) => c.path === 'tier')).toEqual(
      original.changes.find((c) => c.path === 'tier'),
    )
    const sealedEmail = JSON.parse(sealed.changes.find((c) => c.path === 'email')!.new_value!) as string
    const actorKey = await keys.dataKeyFor('acme', 'u-1')
    expect(parseSealedValue(sealedEmail)?.keyId).toBe(actorKey.id)
    expect(await openEvents([sealed], keys)).toEqual([original])
  })

  it('seals under the subject the rule names', async () => {
    const keys = localStore()
    const sealed = await sourceProtection({ encryption: { keys, subject: { kind: 'record' } } })(
      customerUpdate(),
    )
    const sealedEmail = JSON.parse(sealed.changes.find((c) => c.path === 'email')!.new_value!) as string
    expect(parseSealedValue(sealedEmail)?.keyId).toBe((await keys.dataKeyFor('acme', 'customer/c-9')).id)
  })

  it('leaves the key store alone for an event with nothing sensitive', async () => {
    const keys = failingStore(new KeyStoreError('unreachable'))
    const event = build.read({ type: 'customer', id: 'c-9' }, { actor: { id: 'u-1' } })
    expect(await sourceProtection({ encryption: { keys } })(event)).toBe(event)
    expect(keys.calls).toBe(0)
  })

  it('turns a key store failure into KEY_STORE_UNAVAILABLE, never naming the subject', async () => {
    const cause = new KeyStoreError(
      '/keys/k1.json was wrapped by key-encryption key aa, not by this one (bb)',
    )
    const protect = sourceProtection({
      encryption: {
        keys: failingStore(cause),
      },
    })
    const failure = await Promise.resolve(protect(customerUpdate('alice.secret@example.com'))).catch(
      (error: unknown) => error,
    )
    expect(failure).toBeInstanceOf(ProducerError)
    expect(failure).toMatchObject({ code: 'KEY_STORE_UNAVAILABLE', retriable: false, cause })
    expect((failure as Error).message).toMatch(
      /^cannot seal sensitive values: the key store did not give (a data key|the blind-index key) of tenant acme: \/keys\/k1\.json was wrapped/,
    )
    expect((failure as Error).message).not.toContain('alice.secret')
  })

  it('is retriable only when the store says so', async () => {
    class KmsError extends AuditError<'KMS_TIMEOUT'> {}
    const protect = sourceProtection({
      encryption: {
        keys: failingStore(new KmsError('KMS_TIMEOUT', 'the KMS did not answer', true)),
      },
    })
    await expect(protect(customerUpdate())).rejects.toMatchObject({
      code: 'KEY_STORE_UNAVAILABLE',
      retriable: true,
    })
    expect(keyStoreFailureRetriable(new KeyStoreError('no file'))).toBe(false)
    expect(keyStoreFailureRetriable(new Error('EIO'))).toBe(false)
  })

  it('refuses redaction and encryption together, and the one-event encrypt mode as redaction', () => {
    expect(() =>
      sourceProtection({ redaction: { mode: 'hash', hmacKey: 'k' }, encryption: { keys: localStore() } }),
    ).toThrow(
      "give either redaction (sensitive values hashed) or encryption (sealed under their subject's key), not both",
    )
    expect(() => sourceProtection({ redaction: { mode: 'encrypt', seal: () => 'x' } })).toThrow(
      "redaction mode 'encrypt' seals for one event only: give encryption: { keys }",
    )
  })
})
