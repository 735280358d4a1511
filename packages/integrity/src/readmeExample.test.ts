import { createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { appendToChain, entryLeafBytes, genesisHead } from './chainEntry.js'
import { buildCheckpoint, checkpointBody, checkpointHash } from './checkpoint.js'
import { canonicalEventJson } from './canonicalForm.js'
import { canonicalJson } from './canonicalJson.js'
import { contentDigest } from './contentDigest.js'
import { buildInclusionProof, verifyInclusionProof } from './inclusionProof.js'
import { parsePublicKeys, parseSigningKey, publicKeysDocument } from './signingKeys.js'
import { sampleEvent } from './testSupport/auditEvents.js'

/** The `name = value` lines of the README's worked example block. */
function readmeExample(): Map<string, string> {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8')
  const block = /<!-- worked example:[^\n]*-->\s*```text\n([\s\S]*?)```/.exec(readme)?.[1]
  if (block === undefined) throw new Error('README.md has no worked example block')
  return new Map(
    block
      .trim()
      .split('\n')
      .map((line) => {
        const at = line.indexOf(' = ')
        return [line.slice(0, at), line.slice(at + 3)] as [string, string]
      }),
  )
}

describe("the README's worked example", () => {
  it('is what the code computes', () => {
    const seed = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'
    const der = Buffer.from(`302e020100300506032b657004220420${seed}`, 'hex')
    const pem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString()
    expect(pem).toContain('MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g')
    const key = parseSigningKey(pem, 'the README example key')
    const [event0, event1] = [sampleEvent(0), sampleEvent(1)]
    const chained = (event: typeof event0) => ({
      event_id: event.event_id,
      content_digest: contentDigest(event),
      occurred_at: event.occurred_at,
      category: event.category,
    })
    const first = appendToChain(genesisHead('acme', 'audit.normalized/3'), chained(event0))
    const second = appendToChain(first.head, chained(event1))
    const checkpoint = buildCheckpoint({
      tenant: 'acme',
      chain: 'audit.normalized/3',
      previous: null,
      entries: [
        { seq: 0, hash: first.hash },
        { seq: 1, hash: second.hash },
      ],
      createdAtMs: 1_767_225_602_000,
      key,
    })
    const published = publicKeysDocument([key.publicKey])
    const computed = new Map([
      ['event 0 canonical text', canonicalEventJson(event0)],
      ['event 0 content digest', contentDigest(event0)],
      ['entry 0 leaf text', entryLeafBytes(first.entry).toString('utf8')],
      ['entry 0 hash', first.hash],
      ['event 1 content digest', contentDigest(event1)],
      ['entry 1 hash', second.hash],
      ['merkle root', checkpoint.merkle_root],
      ['key id', key.keyId],
      ['public key pem', published.keys[0]?.public_key_pem.split('\n')[1] ?? ''],
      ['checkpoint 0 body text', canonicalJson(checkpointBody(checkpoint))],
      ['checkpoint 0 signature', checkpoint.signature],
      ['checkpoint 0 hash', checkpointHash(checkpoint)],
    ])
    expect(readmeExample()).toEqual(computed)

    const proof = buildInclusionProof({
      event: event1,
      entry: second.entry,
      coveredEntryHashes: [first.hash, second.hash],
      checkpoint,
    })
    expect(proof).toMatchObject({ leaf_index: 1, tree_size: 2, audit_path: [first.hash] })
    const keys = parsePublicKeys(JSON.stringify(published), 'the README example keys')
    expect(verifyInclusionProof(proof, keys)).toEqual({ ok: true })
  })
})
