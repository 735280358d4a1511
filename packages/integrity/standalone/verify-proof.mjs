#!/usr/bin/env node
// Checks an inclusion proof of the audit pipeline's tamper-evident trail, on its own:
//
//   node verify-proof.mjs PROOF.json PUBLIC_KEYS.json
//
// PROOF.json is an inclusion proof (form audit-pipeline/inclusion-proof/1), PUBLIC_KEYS.json the
// published keys ({"keys": [{"key_id", "algorithm": "Ed25519", "public_key_pem"}]}). Verified
// means: the event hashes to the content digest its chain entry records; the entry's hash is leaf
// leaf_index of the Merkle tree whose root the checkpoint signs (RFC 6962, checked as RFC 9162
// §2.1.3.2 says); the checkpoint's Ed25519 signature verifies with a published key, whose key_id is
// checked against the key itself. The formats are specified in the README of
// @audit-pipeline/integrity.
//
// Exit 0: verified. Exit 1: NOT VERIFIED, and why. Exit 2: usage (missing arguments, a file that
// cannot be read or is not JSON, an unusable keys document).
//
// It imports only node: built-ins so that it can be read, copied and run alone. `--canonicalize
// FILE` prints the RFC 8785 form of a JSON file: the package's tests use it to hold this file's
// canonical writer to the reference library by running the file exactly as an auditor does
// (exports behind a main-module guard would need type declarations and a second way to load it).

import { Buffer } from 'node:buffer'
import { createHash, createPublicKey, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import process from 'node:process'

const usage = 'usage: node verify-proof.mjs PROOF.json PUBLIC_KEYS.json'

class UsageError extends Error {}

function sha256(...parts) {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest()
}

/** RFC 8785 (JCS) text of what these documents hold: null, booleans, strings, numbers, arrays, objects. */
function canonical(value, depth = 0) {
  if (depth > 32) throw new Error('the document nests more than 32 levels deep')
  if (value === null || typeof value === 'boolean') return String(value)
  if (typeof value === 'string') {
    // As the reference implementation: a lone surrogate has no UTF-8 form, so no canonical one.
    if (!value.isWellFormed()) throw new Error('a string holds a lone surrogate')
    return JSON.stringify(value)
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${value} has no JSON form`)
    return String(value) // ECMAScript's number to string, which is what RFC 8785 specifies
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item, depth + 1)).join(',')}]`
  if (typeof value === 'object') {
    // The default sort compares UTF-16 code units, RFC 8785's key order.
    const members = Object.keys(value)
      .sort()
      .map((key) => `${canonical(key)}:${canonical(value[key], depth + 1)}`)
    return `{${members.join(',')}}`
  }
  throw new Error(`a ${typeof value} has no JSON form`)
}

const isHash = (text) => typeof text === 'string' && /^[0-9a-f]{64}$/.test(text)
const nodeHash = (left, right) => sha256(Buffer.of(1), left, right)

/** RFC 9162 §2.1.3.2: does `path` lead from leaf `index` of a tree of `size` leaves to `root`? */
function included(index, size, leaf, path, root) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of path) {
    if (sn === 0) return false
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

/** The first check that fails, or null when the proof holds. */
function problemWith(proof, keys) {
  if (proof?.form !== 'audit-pipeline/inclusion-proof/1')
    return 'not an inclusion proof (form audit-pipeline/inclusion-proof/1)'
  const { event, entry, checkpoint } = proof
  if ([event, entry, checkpoint].some((part) => typeof part !== 'object' || part === null)) {
    return 'the proof lacks its event, entry or checkpoint'
  }
  // recorded_at (the pipeline's receipt time) is not part of the event's content: not hashed.
  const content = { ...event }
  delete content.recorded_at
  const digest = sha256(canonical({ form: 'audit-event/1', ...content })).toString('hex')
  if (digest !== entry.content_digest) {
    return `the event's content digest ${digest} differs from the entry's ${entry.content_digest}: the event is not the one recorded`
  }
  if (event.event_id !== entry.event_id)
    return `the event's id ${event.event_id} differs from the entry's ${entry.event_id}`
  if (event.tenant !== entry.tenant)
    return `the event's tenant ${event.tenant} differs from the entry's ${entry.tenant}`
  if (event.occurred_at !== entry.occurred_at || event.category !== entry.category)
    return `the event's occurred_at and category differ from the entry's`
  const n = checkpoint.checkpoint_seq
  if (checkpoint.tenant !== entry.tenant || checkpoint.chain !== entry.chain) {
    return `the checkpoint is of ${checkpoint.tenant} ${checkpoint.chain}, the entry of ${entry.tenant} ${entry.chain}`
  }
  if (!(entry.seq >= checkpoint.first_seq && entry.seq <= checkpoint.last_seq)) {
    return `checkpoint ${n} covers seq ${checkpoint.first_seq}..${checkpoint.last_seq}, not entry ${entry.seq}`
  }
  if (proof.leaf_index !== entry.seq - checkpoint.first_seq) {
    return `leaf_index is ${proof.leaf_index}, but entry ${entry.seq} is leaf ${entry.seq - checkpoint.first_seq} of the checkpoint`
  }
  if (proof.tree_size !== checkpoint.last_seq - checkpoint.first_seq + 1) {
    return `tree_size is ${proof.tree_size}, but the checkpoint covers ${checkpoint.last_seq - checkpoint.first_seq + 1} entries`
  }
  if (
    !Array.isArray(proof.audit_path) ||
    !proof.audit_path.every(isHash) ||
    !isHash(checkpoint.merkle_root)
  ) {
    return 'audit_path and merkle_root must be lowercase hex SHA-256 hashes'
  }
  const leaf = sha256(Buffer.of(0), canonical({ form: 'audit-chain-entry/1', ...entry }))
  const path = proof.audit_path.map((hash) => Buffer.from(hash, 'hex'))
  if (!included(proof.leaf_index, proof.tree_size, leaf, path, Buffer.from(checkpoint.merkle_root, 'hex'))) {
    return `the audit path does not lead from entry ${entry.seq}'s hash to checkpoint ${n}'s merkle_root`
  }
  const key = keys.get(checkpoint.key_id)
  if (key === undefined)
    return `checkpoint ${n} is signed by ${checkpoint.key_id}, which is not among the trusted keys`
  const { signature, ...body } = checkpoint
  const signatureBytes = Buffer.from(String(signature), 'base64')
  // Only the canonical base64 of the signature is accepted, as the pipeline does.
  const signed =
    typeof signature === 'string' &&
    signatureBytes.toString('base64') === signature &&
    verify(null, Buffer.from(canonical(body)), key, signatureBytes)
  if (!signed) return `checkpoint ${n}'s signature does not verify with ${checkpoint.key_id}`
  return null
}

function readJson(path) {
  let text
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(`${path}: cannot be read (${error.code ?? error.message})`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${path}: not JSON (${error.message})`)
  }
}

/** The published keys by key id; each key_id must be 'ed25519:' + 16 hex digits of SHA-256 of the key's SPKI DER. */
function readKeys(path) {
  const document = readJson(path)
  if (!Array.isArray(document?.keys)) throw new UsageError(`${path}: expected {"keys": [...]}`)
  const keys = new Map()
  for (const item of document.keys) {
    const pem = item?.public_key_pem
    if (
      item?.algorithm !== 'Ed25519' ||
      typeof pem !== 'string' ||
      !pem.includes('-----BEGIN PUBLIC KEY-----')
    ) {
      throw new UsageError(`${path}: each key needs "algorithm": "Ed25519" and an SPKI "public_key_pem"`)
    }
    let key
    try {
      key = createPublicKey(pem)
    } catch (error) {
      throw new UsageError(`${path}: ${item.key_id}: not a readable public key (${error.message})`)
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw new UsageError(`${path}: ${item.key_id} is not an Ed25519 key`)
    const keyId = `ed25519:${sha256(key.export({ type: 'spki', format: 'der' }))
      .toString('hex')
      .slice(0, 16)}`
    if (item.key_id !== keyId)
      throw new UsageError(`${path}: key_id ${item.key_id} is not the id of its key, ${keyId}`)
    keys.set(keyId, key)
  }
  return keys
}

function main(args) {
  if (args[0] === '--canonicalize' && args.length === 2) {
    const value = readJson(args[1])
    try {
      process.stdout.write(`${canonical(value)}\n`)
    } catch (error) {
      throw new UsageError(`${args[1]}: ${error.message}`)
    }
    return 0
  }
  if (args.length !== 2) throw new UsageError(usage)
  const proof = readJson(args[0])
  const keys = readKeys(args[1])
  let problem
  try {
    problem = problemWith(proof, keys)
  } catch (error) {
    // Whatever a malformed document makes fail (a missing part, a value with no canonical form).
    problem = `the proof is malformed (${error.message})`
  }
  if (problem !== null) {
    process.stdout.write(`NOT VERIFIED: ${problem}\n`)
    return 1
  }
  const { event, entry, checkpoint } = proof
  process.stdout.write(
    `verified: event ${event.event_id} is entry ${entry.seq} of ${entry.tenant} ${entry.chain}, covered by checkpoint ${checkpoint.checkpoint_seq} signed by ${checkpoint.key_id}\n`,
  )
  return 0
}

try {
  process.exitCode = main(process.argv.slice(2))
} catch (error) {
  if (!(error instanceof UsageError)) throw error
  process.stderr.write(`${error.message}\n`)
  process.exitCode = 2
}
