import { describe, expect, it } from 'vitest'
import { checkpointHash, type SignedCheckpoint } from './checkpoint.js'
import { generateSigningKeyPem, parseSigningKey } from './signingKeys.js'
import { signedCheckpointOfJson } from './signedCheckpointJson.js'
import { syntheticChain } from './testSupport/syntheticChain.js'

const key = parseSigningKey(generateSigningKeyPem(), 'test key')
const [checkpoint] = syntheticChain({ length: 5, checkpointEvery: 5, key }).checkpoints as [SignedCheckpoint]

describe('signedCheckpointOfJson', () => {
  it('reads back what the sink publishes, with exactly the checkpoint fields', () => {
    const read = signedCheckpointOfJson(JSON.stringify({ ...checkpoint, extra: 'dropped' }))
    expect(read).toEqual({ checkpoint })
    expect('checkpoint' in read && checkpointHash(read.checkpoint)).toBe(checkpointHash(checkpoint))
  })

  it.each([
    ['{', /^not JSON/],
    ['[]', /^not a JSON object$/],
    [JSON.stringify({ ...checkpoint, form: 'other/1' }), /^form is "other\/1"$/],
    [JSON.stringify({ ...checkpoint, tenant: 7 }), /^tenant is 7$/],
    [JSON.stringify({ ...checkpoint, merkle_root: 'ABC' }), /^merkle_root is "ABC"$/],
    [JSON.stringify({ ...checkpoint, last_seq: -1 }), /^last_seq is -1, expected a non-negative integer$/],
    [JSON.stringify({ ...checkpoint, signature: undefined }), /^signature is missing$/],
  ])('names what is wrong with %s', (text, problem) => {
    const read = signedCheckpointOfJson(text)
    expect('problem' in read && read.problem).toMatch(problem)
  })
})
