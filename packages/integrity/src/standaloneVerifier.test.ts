import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import canonicalize from 'canonicalize'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import type { ChainEntry } from './chainEntry.js'
import { buildInclusionProof, type InclusionProofDocument } from './inclusionProof.js'
import { generateSigningKeyPem, parseSigningKey, publicKeysDocument } from './signingKeys.js'
import { syntheticChain } from './testSupport/syntheticChain.js'

const verifier = join(import.meta.dirname, '..', 'standalone', 'verify-proof.mjs')
const folder = mkdtempSync(join(tmpdir(), 'integrity-standalone-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

let files = 0
function jsonFile(value: unknown): string {
  const path = join(folder, `${files++}.json`)
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value))
  return path
}

/** The verifier run as an auditor runs it: its exit status and what it printed. */
function run(...args: string[]): { status: number; out: string } {
  try {
    return {
      status: 0,
      out: execFileSync(process.execPath, [verifier, ...args], { encoding: 'utf8', stdio: 'pipe' }),
    }
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string }
    return { status: failed.status, out: failed.stdout + failed.stderr }
  }
}

const key = parseSigningKey(generateSigningKeyPem(), 'test key')
const chain = syntheticChain({ length: 10, checkpointEvery: 5, key })
const checkpoint = chain.checkpoints[1]!
const { entry_hash: _hash, ...entry } = chain.items[7]!.entry
const proof = buildInclusionProof({
  event: chain.events[7]!,
  entry: entry satisfies ChainEntry,
  coveredEntryHashes: chain.hashes.slice(5, 10),
  checkpoint,
})
const keysFile = jsonFile(publicKeysDocument([key.publicKey]))

describe('standalone/verify-proof.mjs', () => {
  it('verifies a proof built by the package', () => {
    expect(run(jsonFile(proof), keysFile)).toEqual({
      status: 0,
      out: `verified: event ${proof.event.event_id} is entry 7 of acme audit.normalized/3, covered by checkpoint 1 signed by ${key.keyId}\n`,
    })
  })

  it('refuses the proof when one character of a change value differs', () => {
    const changed: InclusionProofDocument = {
      ...proof,
      event: { ...proof.event, changes: [{ ...proof.event.changes[0]!, new_value: '121' }] },
    }
    expect(JSON.stringify(changed).length).toBe(JSON.stringify(proof).length)
    const result = run(jsonFile(changed), keysFile)
    expect(result.status).toBe(1)
    expect(result.out).toMatch(
      /^NOT VERIFIED: the event's content digest [0-9a-f]{64} differs from the entry's/,
    )
  })

  it('refuses the proof against a key set without its key', () => {
    const otherKeys = jsonFile(
      publicKeysDocument([parseSigningKey(generateSigningKeyPem(), 'other').publicKey]),
    )
    const result = run(jsonFile(proof), otherKeys)
    expect(result).toEqual({
      status: 1,
      out: `NOT VERIFIED: checkpoint 1 is signed by ${key.keyId}, which is not among the trusted keys\n`,
    })
  })

  it('refuses a changed checkpoint, and a malformed proof', () => {
    const resigned = run(jsonFile({ ...proof, checkpoint: { ...proof.checkpoint, created_at: 1 } }), keysFile)
    expect(resigned).toEqual({
      status: 1,
      out: `NOT VERIFIED: checkpoint 1's signature does not verify with ${key.keyId}\n`,
    })
    const malformed = run(jsonFile({ ...proof, entry: null }), keysFile)
    expect(malformed).toEqual({
      status: 1,
      out: 'NOT VERIFIED: the proof lacks its event, entry or checkpoint\n',
    })
  })

  it('exits 2 on usage errors', () => {
    expect(run(jsonFile(proof))).toEqual({
      status: 2,
      out: 'usage: node verify-proof.mjs PROOF.json PUBLIC_KEYS.json\n',
    })
    const usageErrors: [string[], RegExp][] = [
      [[join(folder, 'absent.json'), keysFile], /absent\.json: cannot be read \(ENOENT\)\n$/],
      [[jsonFile('{"form":'), keysFile], /\.json: not JSON \(/],
      [
        [
          jsonFile(proof),
          jsonFile({
            keys: [{ ...publicKeysDocument([key.publicKey]).keys[0], key_id: 'ed25519:0000000000000000' }],
          }),
        ],
        /key_id ed25519:0000000000000000 is not the id of its key, ed25519:[0-9a-f]{16}\n$/,
      ],
      [['--canonicalize', jsonFile('["\\ud800"]')], /\.json: a string holds a lone surrogate\n$/],
    ]
    for (const [args, message] of usageErrors) {
      const result = run(...args)
      expect(result.status).toBe(2)
      expect(result.out).toMatch(message)
    }
  })

  it('writes RFC 8785 as the reference library does (strings with lone surrogates refused by both)', () => {
    const unit = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', '\u2028', '\u{1f600}', 'é', 'ｚ'),
    )
    const text = fc.string({ unit, maxLength: 8 })
    const { json } = fc.letrec((tie) => ({
      json: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constant(null),
        fc.boolean(),
        text,
        fc.integer(),
        fc.maxSafeInteger(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.array(tie('json'), { maxLength: 4 }),
        fc.dictionary(text, tie('json'), { maxKeys: 5 }),
      ),
    }))
    // One run of the script per sample of 25 values: the file is checked as it is run.
    fc.assert(
      fc.property(fc.array(json, { minLength: 1, maxLength: 25 }), (values) => {
        const result = run('--canonicalize', jsonFile(values))
        expect(result).toEqual({ status: 0, out: `${canonicalize(JSON.parse(JSON.stringify(values)))}\n` })
      }),
      { numRuns: 20 },
    )
    expect(() => canonicalize(['\ud800'])).toThrow('Lone surrogate is not allowed')
  })
})
