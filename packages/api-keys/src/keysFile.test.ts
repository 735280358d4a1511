import { describe, expect, it } from 'vitest'
import { ConfigFileError } from '@audit-pipeline/config'
import { KeysFileError } from './apiKeysError.js'
import { formatApiKeys, parseApiKeys } from './keysFile.js'
import { secretSha256 } from './secrets.js'

const hash = (secret: string) => secretSha256(secret).toString('hex')

describe('parseApiKeys', () => {
  it('reads keys with their role and tenants, holding only the hash of each secret', () => {
    const keys = parseApiKeys(
      JSON.stringify({
        keys: [
          { id: 'ops', secret_sha256: hash('s1'), role: 'auditor' },
          { id: 'acme-bi', secret_sha256: hash('s2'), role: 'analyst', tenants: ['acme', 'acme'] },
        ],
      }),
      'keys.json',
    )
    expect(keys).toEqual([
      { id: 'ops', secretSha256: secretSha256('s1'), role: 'auditor', tenants: 'all' },
      { id: 'acme-bi', secretSha256: secretSha256('s2'), role: 'analyst', tenants: ['acme'] },
    ])
  })

  it('reads when a key was made, when it expires and when it was revoked', () => {
    const [key] = parseApiKeys(
      JSON.stringify({
        keys: [
          {
            id: 'ops',
            secret_sha256: hash('s1'),
            role: 'auditor',
            created_at: '2026-03-01T12:00:00Z',
            expires_at: '2026-03-31T14:00:00+02:00',
            revoked_at: '2026-03-02T00:00:00.000Z',
          },
        ],
      }),
      'keys.json',
    )
    expect(key).toMatchObject({
      createdAt: new Date('2026-03-01T12:00:00Z'),
      expiresAt: new Date('2026-03-31T12:00:00Z'),
      revokedAt: new Date('2026-03-02T00:00:00Z'),
    })
  })

  it('names the file, the key and the field at fault', () => {
    const parse = (keys: unknown[]) => () => parseApiKeys(JSON.stringify({ keys }), 'keys.json')
    expect(() => parseApiKeys('{', 'keys.json')).toThrow(
      /^invalid API keys file keys\.json \(1 problem\):\n {2}keys\.json: not JSON: /,
    )
    expect(parse([{ id: 'a', secret_sha256: 'plain-secret', role: 'auditor' }])).toThrow(
      'keys.json: keys.0.secret_sha256: expected the SHA-256 of the secret as 64 hex digits (never the secret itself)',
    )
    expect(parse([{ id: 'a', secret_sha256: hash('x'), role: 'admin' }])).toThrow(
      'keys.json: keys.0.role: expected one of: auditor, analyst',
    )
    expect(
      parse([{ id: 'a', secret_sha256: hash('x'), role: 'analyst', tenants: ["acme' OR 1=1"] }]),
    ).toThrow('keys.json: keys.0.tenants.0: expected tenant names matching')
    expect(parse([{ id: 'a', secret_sha256: hash('x'), role: 'analyst', tenants: [] }])).toThrow(
      'list at least one tenant',
    )
    expect(
      parse([
        { id: 'a', secret_sha256: hash('x'), role: 'analyst' },
        { id: 'a', secret_sha256: hash('y'), role: 'analyst' },
      ]),
    ).toThrow("keys.json: keys.1.id: 'a' is listed twice")
    expect(parse([{ id: 'a', secret_sha256: hash('x'), role: 'analyst', secret: 'x' }])).toThrow(
      /keys.0: Unrecognized key/,
    )
    expect(
      parse([{ id: 'a', secret_sha256: hash('x'), role: 'analyst', expires_at: '2026-03-01T12:00:00' }]),
    ).toThrow(
      'keys.json: keys.0.expires_at: expected an ISO-8601 time with its zone, e.g. 2026-03-01T12:00:00Z',
    )
    expect(parse([])).toThrow('keys.json: keys: list at least one key')
    expect(parse([])).toThrow(expect.objectContaining({ code: 'KEYS_FILE_INVALID' }))
  })

  it('lists every problem at once, as a config-file error', () => {
    const text = JSON.stringify({
      keys: [
        { id: 'a', secret_sha256: 'plain-secret', role: 'admin' },
        { id: 'b', secret_sha256: hash('x'), role: 'analyst' },
      ],
    })
    const error = (() => {
      try {
        parseApiKeys(text, 'keys.json')
      } catch (caught) {
        return caught
      }
      throw new Error('expected parseApiKeys to throw')
    })()
    expect(error).toBeInstanceOf(ConfigFileError)
    expect(error).toBeInstanceOf(KeysFileError)
    expect((error as KeysFileError).problems.map((problem) => problem.path)).toEqual([
      'keys.0.secret_sha256',
      'keys.0.role',
    ])
    expect((error as Error).message).toMatch(/^invalid API keys file keys\.json \(2 problems\):\n/)
    expect(() =>
      parseApiKeys(
        JSON.stringify({
          keys: ['a', 'b', 'a', 'a'].map((id) => ({ id, secret_sha256: hash(id), role: 'analyst' })),
        }),
        'keys.json',
      ),
    ).toThrow("keys.json: keys.2.id: 'a' is listed twice\n  keys.json: keys.3.id: 'a' is listed twice")
  })
})

describe('formatApiKeys', () => {
  it('writes what parseApiKeys reads back as the same keys, hashes only', () => {
    const keys = parseApiKeys(
      JSON.stringify({
        keys: [
          { id: 'ops', secret_sha256: hash('s1'), role: 'auditor' },
          {
            id: 'acme-bi',
            secret_sha256: hash('s2'),
            role: 'analyst',
            tenants: ['acme', 'beta'],
            created_at: '2026-03-01T12:00:00.000Z',
            expires_at: '2026-04-01T12:00:00.000Z',
            revoked_at: '2026-03-02T12:00:00.000Z',
          },
        ],
      }),
      'keys.json',
    )
    const text = formatApiKeys(keys)
    expect(parseApiKeys(text, 'again.json')).toEqual(keys)
    expect(JSON.parse(text)).toEqual({
      keys: [
        { id: 'ops', role: 'auditor', secret_sha256: hash('s1') },
        {
          id: 'acme-bi',
          role: 'analyst',
          tenants: ['acme', 'beta'],
          secret_sha256: hash('s2'),
          created_at: '2026-03-01T12:00:00.000Z',
          expires_at: '2026-04-01T12:00:00.000Z',
          revoked_at: '2026-03-02T12:00:00.000Z',
        },
      ],
    })
  })
})
