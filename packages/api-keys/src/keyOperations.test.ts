import { describe, expect, it } from 'vitest'
import { keyStatus } from './apiKey.js'
import { createKey, keySummaries, renewKey, revokeKey } from './keyOperations.js'
import { secretSha256, type KeyEntropy } from './secrets.js'

const nowMs = Date.parse('2026-03-01T12:00:00Z')

/** Counts up from `start`, so each draw differs and is known. */
function countingEntropy(start = 0, at = nowMs): KeyEntropy {
  let next = start
  return {
    nowMs: at,
    randomBytes: (size) => Buffer.alloc(size, next++ % 256),
  }
}

describe('createKey', () => {
  it('makes a key with a generated id and returns its token once; the key holds only the hash', () => {
    const { keys, key, token } = createKey([], { role: 'analyst', tenants: ['t1', 't1'] }, countingEntropy(1))
    expect(key.id).toBe('key-01010101')
    const [id, secret] = token.split('.')
    expect(id).toBe(key.id)
    // 32 random bytes, base64url: 43 characters, no dot.
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(key).toEqual({
      id: 'key-01010101',
      secretSha256: secretSha256(secret!),
      role: 'analyst',
      tenants: ['t1'],
      createdAt: new Date(nowMs),
    })
    expect(keys).toEqual([key])
  })

  it('takes a given id and expiry, and refuses an id already in the file, revoked or not', () => {
    const expiresAt = new Date('2026-04-01T00:00:00Z')
    const first = createKey([], { id: 'ops', role: 'auditor', tenants: 'all', expiresAt }, countingEntropy())
    expect(first.key).toMatchObject({ id: 'ops', tenants: 'all', expiresAt })
    expect(() =>
      createKey(first.keys, { id: 'ops', role: 'analyst', tenants: 'all' }, countingEntropy()),
    ).toThrow(expect.objectContaining({ code: 'KEY_ID_TAKEN', message: "key id 'ops' is already in use" }))
    const revoked = revokeKey(first.keys, 'ops', nowMs).keys
    expect(() =>
      createKey(revoked, { id: 'ops', role: 'analyst', tenants: 'all' }, countingEntropy()),
    ).toThrow("key id 'ops' is already in use (by a revoked key: ids are never reused)")
  })

  it('draws another id when the generated one is taken, and gives up on a broken source', () => {
    const { keys } = createKey([], { role: 'auditor', tenants: 'all' }, countingEntropy(7))
    // The same source again: its first id (07070707) is taken, its next one is not.
    const second = createKey(keys, { role: 'auditor', tenants: 'all' }, countingEntropy(7))
    expect(second.key.id).not.toBe(keys[0]?.id)
    const stuck: KeyEntropy = { nowMs, randomBytes: (size) => Buffer.alloc(size, 7) }
    expect(() => createKey(keys, { role: 'auditor', tenants: 'all' }, stuck)).toThrow('give the key an id')
  })

  it('names each field the file would refuse', () => {
    const create = (request: Parameters<typeof createKey>[1]) => () =>
      createKey([], request, countingEntropy())
    expect(create({ role: 'admin' as 'auditor', tenants: 'all' })).toThrow(
      "role: expected one of: auditor, analyst; got 'admin'",
    )
    expect(create({ id: 'a.b', role: 'auditor', tenants: 'all' })).toThrow(
      "id: expected 1 to 64 of A-Z a-z 0-9 _ -, starting with a letter or digit; got 'a.b'",
    )
    expect(create({ role: 'auditor', tenants: ["acme' OR 1=1"] })).toThrow(
      "tenants: expected 1 to 128 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit; got 'acme' OR 1=1'",
    )
    expect(create({ role: 'auditor', tenants: [] })).toThrow('tenants: list at least one tenant')
    expect(create({ role: 'auditor', tenants: 'all', expiresAt: new Date(nowMs) })).toThrow(
      'expires_at: 2026-03-01T12:00:00.000Z is already past',
    )
  })
})

describe('renewKey', () => {
  it("replaces the key's secret in its place, or adds it, keeping every other key", () => {
    const ops = createKey([], { id: 'ops', role: 'auditor', tenants: 'all' }, countingEntropy(1))
    const withLocal = renewKey(ops.keys, { id: 'local', role: 'auditor', tenants: 'all' }, countingEntropy(2))
    const bi = createKey(withLocal.keys, { id: 'bi', role: 'analyst', tenants: ['t1'] }, countingEntropy(3))
    const revoked = revokeKey(bi.keys, 'local', nowMs).keys
    const renewed = renewKey(revoked, { id: 'local', role: 'auditor', tenants: 'all' }, countingEntropy(4))
    expect(renewed.keys.map((key) => key.id)).toEqual(['ops', 'local', 'bi'])
    expect(renewed.keys[1]).toEqual(renewed.key)
    expect(renewed.key.revokedAt).toBeUndefined()
    expect(renewed.key.secretSha256).not.toEqual(withLocal.key.secretSha256)
    expect(renewed.keys[0]).toBe(ops.key)
    expect(renewed.keys[2]).toBe(bi.key)
  })
})

describe('revokeKey', () => {
  it('marks the key revoked at once and keeps its entry; says when it already was', () => {
    const { keys } = createKey([], { id: 'ops', role: 'auditor', tenants: 'all' }, countingEntropy())
    const revoked = revokeKey(keys, 'ops', nowMs + 1000)
    expect(revoked.alreadyRevoked).toBe(false)
    expect(revoked.key.revokedAt).toEqual(new Date(nowMs + 1000))
    expect(keyStatus(revoked.key, nowMs)).toBe('revoked')
    const again = revokeKey(revoked.keys, 'ops', nowMs + 2000)
    expect(again.alreadyRevoked).toBe(true)
    expect(again.key.revokedAt).toEqual(new Date(nowMs + 1000))
    expect(() => revokeKey(keys, 'nobody', nowMs)).toThrow(
      expect.objectContaining({ code: 'KEY_NOT_FOUND', message: "no key has the id 'nobody'" }),
    )
  })
})

describe('keySummaries', () => {
  it('lists each key with its status at the time given, never its secret or hash', () => {
    let { keys } = createKey(
      [],
      { id: 'short', role: 'analyst', tenants: ['t1'], expiresAt: new Date(nowMs + 60_000) },
      countingEntropy(),
    )
    keys = createKey(keys, { id: 'ops', role: 'auditor', tenants: 'all' }, countingEntropy(9)).keys
    keys = createKey(keys, { id: 'gone', role: 'auditor', tenants: 'all' }, countingEntropy(5)).keys
    keys = revokeKey(keys, 'gone', nowMs).keys
    expect(keySummaries(keys, nowMs).map((key) => [key.id, key.status])).toEqual([
      ['short', 'active'],
      ['ops', 'active'],
      ['gone', 'revoked'],
    ])
    expect(keySummaries(keys, nowMs + 60_000).map((key) => key.status)).toEqual([
      'expired',
      'active',
      'revoked',
    ])
    const [summary] = keySummaries(keys, nowMs)
    expect(summary).toEqual({
      id: 'short',
      role: 'analyst',
      tenants: ['t1'],
      status: 'active',
      createdAt: new Date(nowMs),
      expiresAt: new Date(nowMs + 60_000),
    })
  })
})
