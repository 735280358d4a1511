import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readApiKeysFile, secretSha256, type KeyEntropy } from '@audit-pipeline/api-keys'
import { keysCreateCommand, keysListCommand, keysRevokeCommand } from './keys.js'
import { keysListFormat, parseKeysCreateFlags, resolveKeysFile, type KeysFile } from './keysOptions.js'

const nowMs = Date.parse('2026-03-01T12:00:00Z')
const entropy = (seed: number): KeyEntropy => ({ nowMs, randomBytes: (size) => Buffer.alloc(size, seed) })

function captured() {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } }
}

const keysFile = (): KeysFile => ({
  path: join(mkdtempSync(join(tmpdir(), 'cli-keys-')), 'keys.json'),
  origin: '--file',
})

describe('keys options', () => {
  it('takes the file from --file, then QUERY_API_KEYS_FILE, then the local stack', () => {
    const local = '/repo/.stack/query-api-keys.json'
    expect(
      resolveKeysFile({ file: 'k.json' }, { QUERY_API_KEYS_FILE: '/etc/k.json' }, local, '/work'),
    ).toEqual({
      path: '/work/k.json',
      origin: '--file',
    })
    expect(resolveKeysFile({}, { QUERY_API_KEYS_FILE: '/etc/k.json' }, local)).toEqual({
      path: '/etc/k.json',
      origin: 'QUERY_API_KEYS_FILE',
    })
    expect(resolveKeysFile({}, {}, local)).toEqual({ path: local, origin: 'the local stack' })
    expect(() => resolveKeysFile({ file: ' ' }, {}, local)).toThrow('--file must not be empty')
  })

  it('turns the flags into a key request, naming every bad flag and what it accepts', () => {
    expect(
      parseKeysCreateFlags({ role: 'analyst', tenant: ['t1', 't2'], expires: '30d', id: 'bi' }, nowMs),
    ).toEqual({
      role: 'analyst',
      tenants: ['t1', 't2'],
      expiresAt: new Date('2026-03-31T12:00:00Z'),
      id: 'bi',
    })
    expect(parseKeysCreateFlags({ role: 'auditor', tenant: [] }, nowMs)).toEqual({
      role: 'auditor',
      tenants: 'all',
    })
    expect(() => parseKeysCreateFlags({ role: 'admin', tenant: [] }, nowMs)).toThrow(
      "--role expected one of: auditor, analyst; got 'admin'",
    )
    expect(() =>
      parseKeysCreateFlags({ role: 'analyst', tenant: ['t 1'], expires: 'soon', id: 'a.b' }, nowMs),
    ).toThrow(
      "--tenant expected 1 to 128 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit; got 't 1'; " +
        "--id expected 1 to 64 of A-Z a-z 0-9 _ -, starting with a letter or digit; got 'a.b'; " +
        "--expires expected a duration such as 30d, 12h or 90m, or an ISO-8601 time with its zone, e.g. 2026-03-01T12:00:00Z; got 'soon'",
    )
    expect(() => keysListFormat('csv')).toThrow("--format must be one of: table, json; got 'csv'")
  })
})

describe('keys create, list and revoke', () => {
  it('prints the token once with how to use it, and stores only its hash', async () => {
    const file = keysFile()
    const { out, io } = captured()
    const request = parseKeysCreateFlags({ role: 'analyst', tenant: ['t1'], expires: '12h' }, nowMs)
    expect(await keysCreateCommand(request, file, io, entropy(1))).toBe(0)
    const token = /export AUDIT_API_KEY=(\S+)/.exec(out.join('\n'))?.[1] ?? ''
    expect(token).toMatch(/^key-01010101\.[A-Za-z0-9_-]{43}$/)
    expect(out.join('\n').split(token)).toHaveLength(2)
    expect(out[0]).toBe(
      `Created key key-01010101 in ${file.path}: analyst, tenant t1, expires 2026-03-02T00:00:00.000Z.`,
    )
    expect(out.join('\n')).toContain('shown this once and stored nowhere')
    const secret = token.split('.')[1]!
    expect(readFileSync(file.path, 'utf8')).not.toContain(secret)
    expect(readApiKeysFile(file.path)[0]?.secretSha256).toEqual(secretSha256(secret))
  })

  it('refuses an id already in the file, naming it', async () => {
    const file = keysFile()
    const { io } = captured()
    await keysCreateCommand({ id: 'bi', role: 'analyst', tenants: 'all' }, file, io, entropy(1))
    await expect(
      keysCreateCommand({ id: 'bi', role: 'auditor', tenants: 'all' }, file, io, entropy(2)),
    ).rejects.toThrow(`--id: key id 'bi' is already in use; choose another (keys file ${file.path})`)
  })

  it('lists keys with their status, never a secret or hash; revoke refuses the key from then on', async () => {
    const file = keysFile()
    const { out, err, io } = captured()
    await keysCreateCommand({ id: 'ops', role: 'auditor', tenants: 'all' }, file, io, entropy(1))
    await keysCreateCommand(
      { id: 'bi', role: 'analyst', tenants: ['t1', 't2'], expiresAt: new Date(nowMs + 60_000) },
      file,
      io,
      entropy(2),
    )
    const hashes = readApiKeysFile(file.path).map((key) => key.secretSha256.toString('hex'))
    out.length = 0

    expect(await keysRevokeCommand('ops', file, io, nowMs + 1_000)).toBe(0)
    expect(out).toEqual([
      `Revoked key ops in ${file.path}: a query API reading that file refuses it at once.`,
    ])
    out.length = 0
    await keysRevokeCommand('ops', file, io, nowMs + 2_000)
    expect(out).toEqual(['Key ops was already revoked at 2026-03-01T12:00:01.000Z; nothing changed.'])
    await expect(keysRevokeCommand('nobody', file, io, nowMs)).rejects.toThrow(
      `no key has the id 'nobody' in ${file.path}; \`audit-pipeline keys list\` shows the ids`,
    )

    out.length = 0
    keysListCommand({ format: 'table' }, file, { ...io, widthChars: 200 }, nowMs + 60_000)
    expect(out).toEqual([
      'ID   ROLE     STATUS                            CREATED                   EXPIRES                   TENANTS',
      'ops  auditor  revoked 2026-03-01T12:00:01.000Z  2026-03-01T12:00:00.000Z  never                     (all)',
      'bi   analyst  expired                           2026-03-01T12:00:00.000Z  2026-03-01T12:01:00.000Z  t1, t2',
    ])
    expect(err.at(-1)).toBe(`2 key(s) in ${file.path}: 1 revoked, 1 expired`)
    out.length = 0
    keysListCommand({ format: 'json' }, file, io, nowMs)
    expect(out.map((line) => JSON.parse(line) as unknown)).toEqual([
      {
        id: 'ops',
        role: 'auditor',
        tenants: 'all',
        status: 'revoked',
        created_at: '2026-03-01T12:00:00.000Z',
        expires_at: null,
        revoked_at: '2026-03-01T12:00:01.000Z',
      },
      {
        id: 'bi',
        role: 'analyst',
        tenants: ['t1', 't2'],
        status: 'active',
        created_at: '2026-03-01T12:00:00.000Z',
        expires_at: '2026-03-01T12:01:00.000Z',
        revoked_at: null,
      },
    ])
    for (const hash of hashes) expect(out.join('\n')).not.toContain(hash)
  })

  it('says which file is missing and how to make it', async () => {
    const { io } = captured()
    const local: KeysFile = { path: '/nowhere/.stack/query-api-keys.json', origin: 'the local stack' }
    expect(() => keysListCommand({ format: 'table' }, local, io, nowMs)).toThrow(
      "the local stack's keys file /nowhere/.stack/query-api-keys.json does not exist (`npm start` makes it; QUERY_API_KEYS_FILE or --file names another); `audit-pipeline keys create` makes it with its first key",
    )
    await expect(
      keysRevokeCommand('x', { path: '/nowhere/k.json', origin: 'QUERY_API_KEYS_FILE' }, io, nowMs),
    ).rejects.toThrow('the keys file /nowhere/k.json (QUERY_API_KEYS_FILE) does not exist')
  })
})
