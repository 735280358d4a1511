import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parsePublicKeys, readSigningKey } from '@audit-pipeline/integrity'
import { publicKeysCommand, signingKeyCommand } from './checkpointKeys.js'

function captured() {
  const out: string[] = []
  return { out, io: { out: (line: string) => out.push(line), err: (line: string) => out.push(line) } }
}
const folder = () => mkdtempSync(join(tmpdir(), 'cli-checkpoint-keys-'))

describe('keys signing-key', () => {
  it('writes an Ed25519 PKCS#8 key the sink reads, readable by its owner only, and never overwrites one', () => {
    const path = join(folder(), 'signing.pem')
    const { out, io } = captured()
    expect(signingKeyCommand({ out: path }, io)).toBe(0)
    const key = readSigningKey(path)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(out[0]).toBe(`Wrote a checkpoint signing key, ${key.keyId}, to ${path} (mode 0600).`)
    expect(() => signingKeyCommand({ out: path }, io)).toThrow(
      `${path} exists: a signing key is never overwritten`,
    )
    expect(readSigningKey(path).keyId).toBe(key.keyId)
  })
})

describe('keys public', () => {
  it('prints the document of one key, and adds keys to a published one keeping those it holds', () => {
    const dir = folder()
    const [first, second] = ['a.pem', 'b.pem'].map((name) => join(dir, name))
    signingKeyCommand({ out: first! }, captured().io)
    signingKeyCommand({ out: second! }, captured().io)
    const printed = captured()
    expect(publicKeysCommand({ signingKey: first! }, printed.io)).toBe(0)
    const alone = parsePublicKeys(printed.out.join('\n'), 'printed')
    expect([...alone.keys()]).toEqual([readSigningKey(first!).keyId])

    const published = join(dir, 'public-keys.json')
    publicKeysCommand({ signingKey: first!, addTo: published }, captured().io)
    const rotated = captured()
    publicKeysCommand({ signingKey: second!, addTo: published }, rotated.io)
    const keys = parsePublicKeys(readFileSync(published, 'utf8'), published)
    expect([...keys.keys()]).toEqual([readSigningKey(first!).keyId, readSigningKey(second!).keyId])
    expect(rotated.out[0]).toContain('it publishes 2 keys')
    const again = captured()
    publicKeysCommand({ signingKey: second!, addTo: published }, again.io)
    expect(again.out).toEqual([
      `${published} already publishes ${readSigningKey(second!).keyId}; nothing changed.`,
    ])
  })

  it('refuses a published document that is not one, naming it, and leaves it as it was', () => {
    const dir = folder()
    const key = join(dir, 'k.pem')
    signingKeyCommand({ out: key }, captured().io)
    const published = join(dir, 'public-keys.json')
    writeFileSync(published, '{"keys": "none"}')
    expect(() => publicKeysCommand({ signingKey: key, addTo: published }, captured().io)).toThrow(
      `${published}: expected a public keys document`,
    )
    expect(readFileSync(published, 'utf8')).toBe('{"keys": "none"}')
    expect(() => publicKeysCommand({ signingKey: join(dir, 'missing.pem') }, captured().io)).toThrow(
      'no such signing key file',
    )
  })
})
