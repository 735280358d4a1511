import { createHash, hash } from 'node:crypto'

/**
 * The Merkle tree of RFC 6962 §2.1 (RFC 9162 §2.1), with SHA-256: leaves and interior nodes are
 * hashed with different one-byte prefixes, so a leaf can never pass for a node. A checkpoint signs
 * the root over its entries' leaf hashes; an inclusion proof is the audit path from one leaf.
 */

/** SHA-256(0x00 || data). */
export function leafHash(data: Buffer): Buffer {
  return createHash('sha256').update(leafPrefix).update(data).digest()
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(nodePrefix).update(left).update(right).digest()
}

const leafPrefix = Buffer.of(0)
const nodePrefix = Buffer.of(1)

/**
 * MTH(D[n]) where the inputs are already leaf hashes (32 bytes each); the empty tree's root is
 * SHA-256 of the empty string. Computed level by level, each level pairing neighbours and carrying
 * an odd last node up unchanged: that builds exactly RFC 6962's tree (split at the largest power
 * of two below n) without recursion, in n - 1 hashes.
 */
export function merkleRoot(leafHashes: readonly Buffer[]): Buffer {
  if (leafHashes.length === 0) return createHash('sha256').digest()
  const level = levelOf(leafHashes)
  for (let size = leafHashes.length; size > 1; size = reduceLevel(level, size));
  return Buffer.from(level.subarray(0, 32))
}

/**
 * PATH(m, D[n]) of RFC 6962 §2.1.1: the sibling hashes from leaf `leafIndex` up to the root,
 * lowest first. A node carried up without a sibling adds nothing, as in the recursive definition.
 */
export function inclusionProof(leafIndex: number, leafHashes: readonly Buffer[]): Buffer[] {
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= leafHashes.length) {
    throw new RangeError(`leaf ${leafIndex} is not in a tree of ${leafHashes.length} leaves`)
  }
  const path: Buffer[] = []
  const level = levelOf(leafHashes)
  let index = leafIndex
  for (let size = leafHashes.length; size > 1; size = reduceLevel(level, size)) {
    const sibling = index % 2 === 0 ? index + 1 : index - 1
    if (sibling < size) path.push(Buffer.from(level.subarray(sibling * 32, sibling * 32 + 32)))
    index = Math.floor(index / 2)
  }
  return path
}

/** The leaf hashes side by side in one buffer, which the levels above then overwrite. */
function levelOf(leafHashes: readonly Buffer[]): Buffer {
  const level = Buffer.allocUnsafe(leafHashes.length * 32)
  leafHashes.forEach((leaf, index) => {
    if (leaf.length !== 32) throw new RangeError(`leaf hash ${index} is ${leaf.length} bytes, not 32`)
    leaf.copy(level, index * 32)
  })
  return level
}

const nodeInput = Buffer.alloc(65, 1)

/**
 * Replaces the first `size` hashes of `level` by the level above them, in place (node i is
 * written after nodes 2i and 2i + 1 were read), and returns that level's size. The one-shot hash
 * answering a 'binary' (latin1) string, written into the level, costs half of one answering a new Buffer on
 * Node 20, and a million leaves make a million of them.
 */
function reduceLevel(level: Buffer, size: number): number {
  let next = 0
  for (let i = 0; i + 1 < size; i += 2) {
    level.copy(nodeInput, 1, i * 32, i * 32 + 64)
    level.write(hash('sha256', nodeInput, 'binary'), next++ * 32, 'binary')
  }
  if (size % 2 === 1) level.copy(level, next++ * 32, (size - 1) * 32, size * 32)
  return next
}

/**
 * Whether `auditPath` proves that `leafHash` is leaf `leafIndex` of the tree of `treeSize` leaves
 * with `root`: the algorithm of RFC 9162 §2.1.3.2, step for step. Arithmetic instead of bit
 * operators, which JavaScript limits to 32 bits.
 */
export function verifyInclusion(proof: {
  leafIndex: number
  treeSize: number
  leafHash: Buffer
  auditPath: readonly Buffer[]
  root: Buffer
}): boolean {
  const { leafIndex, treeSize, leafHash, auditPath, root } = proof
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize)) return false
  if (leafIndex < 0 || leafIndex >= treeSize) return false
  if (leafHash.length !== 32 || root.length !== 32) return false
  let fn = leafIndex
  let sn = treeSize - 1
  let r = leafHash
  for (const p of auditPath) {
    if (p.length !== 32 || sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2)
        sn = Math.floor(sn / 2)
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && r.equals(root)
}
