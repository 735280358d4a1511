import { createHash, verify } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from './canonicalJson.js'
import { zeroHash } from './chainEntry.js'
import {
  buildCheckpoint,
  checkpointBody,
  checkpointForm,
  checkpointHash,
  type SignedCheckpoint,
  verifyCheckpointSignature,
} from './checkpoint.js'
import { merkleRoot } from './merkleTree.js'
import { generateSigningKeyPem, parsePublicKeys, parseSigningKey, publicKeysDocument } from './signingKeys.js'
import { syntheticChain } from './testSupport/syntheticChain.js'

const key = parseSigningKey(generateSigningKeyPem(), 'test key')
const otherKey = parseSigningKey(generateSigningKeyPem(), 'other test key')
const keys = parsePublicKeys(JSON.stringify(publicKeysDocument([key.publicKey])), 'test keys')
const { hashes, checkpoints } = syntheticChain({ length: 12, checkpointEvery: 5, key })

describe('buildCheckpoint', () => {
  it('covers the entries after the previous checkpoint, linked to it by its hash', () => {
    const [first, second] = checkpoints as [SignedCheckpoint, SignedCheckpoint]
    expect(checkpoints).toHaveLength(2)
    expect(checkpointBody(first)).toEqual({
      form: checkpointForm,
      tenant: 'acme',
      chain: 'audit.normalized/3',
      checkpoint_seq: 0,
      first_seq: 0,
      last_seq: 4,
      merkle_root: merkleRoot(hashes.slice(0, 5).map((hash) => Buffer.from(hash, 'hex'))).toString('hex'),
      last_entry_hash: hashes[4],
      previous_checkpoint_hash: zeroHash,
      created_at: first.created_at,
      key_id: key.keyId,
    })
    expect(second).toMatchObject({
      checkpoint_seq: 1,
      first_seq: 5,
      last_seq: 9,
      previous_checkpoint_hash: checkpointHash(first),
    })
  })

  it('signs the UTF-8 of the canonical body with Ed25519, in base64', () => {
    const checkpoint = checkpoints[0] as SignedCheckpoint
    const body = Buffer.from(canonicalJson(checkpointBody(checkpoint)), 'utf8')
    expect(verify(null, body, key.publicKey, Buffer.from(checkpoint.signature, 'base64'))).toBe(true)
    expect(checkpoint.signature).toMatch(/^[A-Za-z0-9+/]{86}==$/)
  })

  it('hashes the whole signed checkpoint, and nothing a stored copy carries besides', () => {
    const checkpoint = checkpoints[0] as SignedCheckpoint
    const expected = createHash('sha256').update(canonicalJson(checkpoint), 'utf8').digest('hex')
    expect(checkpointHash(checkpoint)).toBe(expected)
    expect(checkpointHash({ ...checkpoint, stored_at: 5 } as SignedCheckpoint)).toBe(expected)
    expect(checkpointHash({ ...checkpoint, signature: checkpoints[1]?.signature ?? '' })).not.toBe(expected)
  })

  it('throws when the entries do not follow the previous checkpoint, contiguously', () => {
    const entries = (from: number, count: number) =>
      hashes.slice(from, from + count).map((hash, i) => ({ seq: from + i, hash }))
    const build = (previous: SignedCheckpoint | null, covered: { seq: number; hash: string }[]) =>
      buildCheckpoint({
        tenant: 'acme',
        chain: 'audit.normalized/3',
        previous,
        entries: covered,
        createdAtMs: 1,
        key,
      })
    expect(() => build(null, entries(1, 3))).toThrow(
      'checkpoint entries must be contiguous from seq 0: entry 0 has seq 1',
    )
    expect(() => build(checkpoints[0] ?? null, entries(6, 2))).toThrow(/from seq 5/)
    expect(() => build(null, [entries(0, 1)[0]!, entries(2, 1)[0]!])).toThrow(/entry 1 has seq 2, expected 1/)
    expect(() => build(null, [])).toThrow('a checkpoint covers at least one entry')
    expect(() =>
      buildCheckpoint({
        tenant: 'other',
        chain: 'audit.normalized/3',
        previous: checkpoints[0] ?? null,
        entries: entries(5, 1),
        createdAtMs: 1,
        key,
      }),
    ).toThrow(/belongs to acme/)
  })
})

describe('verifyCheckpointSignature', () => {
  const checkpoint = checkpoints[1] as SignedCheckpoint

  it('is valid with the trusted key', () => {
    expect(verifyCheckpointSignature(checkpoint, keys)).toBe('valid')
  })

  it('names a key it does not trust', () => {
    const foreign = buildCheckpoint({
      tenant: 'acme',
      chain: 'audit.normalized/3',
      previous: null,
      entries: [{ seq: 0, hash: hashes[0] as string }],
      createdAtMs: 1,
      key: otherKey,
    })
    expect(verifyCheckpointSignature(foreign, keys)).toBe('unknown-key')
  })

  it('is invalid when the body, the signature or its spelling changed', () => {
    expect(verifyCheckpointSignature({ ...checkpoint, last_seq: 10 }, keys)).toBe('invalid')
    const bytes = Buffer.from(checkpoint.signature, 'base64')
    bytes[10] = (bytes[10] as number) ^ 1
    expect(verifyCheckpointSignature({ ...checkpoint, signature: bytes.toString('base64') }, keys)).toBe(
      'invalid',
    )
    expect(verifyCheckpointSignature({ ...checkpoint, signature: 'AAAA' }, keys)).toBe('invalid')
    // The same 64 bytes, spelled with a non-zero unused low bit in the last character.
    const last = checkpoint.signature.at(-3) as string
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
    const respelled = `${checkpoint.signature.slice(0, -3)}${alphabet[alphabet.indexOf(last) + 1]}==`
    expect(Buffer.from(respelled, 'base64').equals(Buffer.from(checkpoint.signature, 'base64'))).toBe(true)
    expect(verifyCheckpointSignature({ ...checkpoint, signature: respelled }, keys)).toBe('invalid')
  })
})
