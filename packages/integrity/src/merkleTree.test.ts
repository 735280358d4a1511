import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { inclusionProof, leafHash, merkleRoot, nodeHash, verifyInclusion } from './merkleTree.js'

// The reference inputs and roots of RFC 6962's reference implementation
// (google/certificate-transparency cpp/merkletree/merkle_tree_test.cc, repeated in
// transparency-dev/merkle testonly/constants.go).
const referenceLeaves = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((hex) => leafHash(Buffer.from(hex, 'hex')))
const referenceRoots = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]
// [leaf index (0-based), tree size, audit path]: the same sources' inclusion proofs.
const referenceProofs: [number, number, string[]][] = [
  [0, 1, []],
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
]

/** MTH of RFC 6962 §2.1 as written: split at the largest power of two below n. */
function recursiveRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest()
  if (leaves.length === 1) return leaves[0] as Buffer
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  return nodeHash(recursiveRoot(leaves.slice(0, k)), recursiveRoot(leaves.slice(k)))
}

const randomLeaves = (count: number, seed: number) =>
  Array.from({ length: count }, (_, i) => leafHash(Buffer.from(`leaf ${seed} ${i}`)))

describe('merkleRoot', () => {
  it('gives the reference roots for 0 to 8 reference leaves', () => {
    for (let size = 0; size <= 8; size++) {
      expect(merkleRoot(referenceLeaves.slice(0, size)).toString('hex')).toBe(referenceRoots[size])
    }
  })

  it('equals the recursive definition for every size up to 70', () => {
    const leaves = randomLeaves(70, 1)
    for (let size = 0; size <= 70; size++) {
      expect(merkleRoot(leaves.slice(0, size)).equals(recursiveRoot(leaves.slice(0, size)))).toBe(true)
    }
  })

  it('handles a large tree without recursion, and leaves its input alone', () => {
    const leaves = randomLeaves(100_003, 2)
    const first = leaves[0]
    expect(merkleRoot(leaves)).toHaveLength(32)
    expect(leaves).toHaveLength(100_003)
    expect(leaves[0]).toBe(first)
  })
})

describe('inclusion proofs', () => {
  it('gives the reference audit paths', () => {
    for (const [index, size, path] of referenceProofs) {
      const leaves = referenceLeaves.slice(0, size)
      expect(inclusionProof(index, leaves).map((hash) => hash.toString('hex'))).toEqual(path)
      const root = Buffer.from(referenceRoots[size] as string, 'hex')
      const auditPath = path.map((hash) => Buffer.from(hash, 'hex'))
      expect(
        verifyInclusion({
          leafIndex: index,
          treeSize: size,
          leafHash: leaves[index] as Buffer,
          auditPath,
          root,
        }),
      ).toBe(true)
    }
  })

  it('verifies for every leaf of random trees, and fails with a flipped bit, another index or another size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), fc.nat(), (size, seed, pick) => {
        const grown = randomLeaves(size + 2, seed)
        const leaves = grown.slice(0, size)
        const root = merkleRoot(leaves)
        for (let index = 0; index < size; index++) {
          const leaf = leaves[index] as Buffer
          const auditPath = inclusionProof(index, leaves)
          const proof = { leafIndex: index, treeSize: size, leafHash: leaf, auditPath, root }
          expect(verifyInclusion(proof)).toBe(true)
          const flip = (buffer: Buffer) => {
            const copy = Buffer.from(buffer)
            copy[pick % 32] = (copy[pick % 32] as number) ^ (1 << (pick % 8))
            return copy
          }
          expect(verifyInclusion({ ...proof, leafHash: flip(leaf) })).toBe(false)
          expect(verifyInclusion({ ...proof, root: flip(root) })).toBe(false)
          if (auditPath.length > 0) {
            const at = pick % auditPath.length
            const flipped = auditPath.map((hash, i) => (i === at ? flip(hash) : hash))
            expect(verifyInclusion({ ...proof, auditPath: flipped })).toBe(false)
            expect(verifyInclusion({ ...proof, auditPath: auditPath.slice(1) })).toBe(false)
          }
          for (let other = 0; other < size; other++) {
            if (other !== index) expect(verifyInclusion({ ...proof, leafIndex: other })).toBe(false)
          }
          // Another size is another tree, with its own root. (Against this tree's root, a proof can
          // also pass for a larger size: RFC 9162 authenticates the size by the signed tree head,
          // which is why an inclusion proof's tree_size is checked against its checkpoint.)
          for (const otherSize of [size - 1, size + 1, size + 2]) {
            if (otherSize <= index) continue
            const otherRoot = merkleRoot(grown.slice(0, otherSize))
            expect(verifyInclusion({ ...proof, treeSize: otherSize, root: otherRoot })).toBe(false)
          }
        }
      }),
      { numRuns: 60 },
    )
  })

  it('refuses an index outside the tree', () => {
    const leaves = randomLeaves(3, 3)
    expect(() => inclusionProof(3, leaves)).toThrow('leaf 3 is not in a tree of 3 leaves')
    const proof = {
      leafIndex: 3,
      treeSize: 3,
      leafHash: leaves[0] as Buffer,
      auditPath: [],
      root: merkleRoot(leaves),
    }
    expect(verifyInclusion(proof)).toBe(false)
  })
})
