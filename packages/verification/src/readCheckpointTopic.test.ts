import { describe, expect, it } from 'vitest'
import { buildCheckpoint, generateSigningKeyPem, parseSigningKey, zeroHash } from '@audit-pipeline/integrity'
import { checkpointOfMessage } from './readCheckpointTopic.js'

const checkpoint = buildCheckpoint({
  tenant: 'acme',
  chain: 'audit.normalized/0',
  previous: null,
  entries: [{ seq: 0, hash: zeroHash }],
  createdAtMs: 1_767_225_600_000,
  key: parseSigningKey(generateSigningKeyPem(), 'test key'),
})

describe('checkpointOfMessage', () => {
  it('reads a published checkpoint with exactly its fields; a tombstone is none', () => {
    const value = Buffer.from(JSON.stringify({ ...checkpoint, extra: 'ignored' }))
    expect(checkpointOfMessage({ value }, 'here')).toEqual(checkpoint)
    expect(checkpointOfMessage({ value: null }, 'here')).toBeUndefined()
  })

  it('names the message and the problem for anything else', () => {
    expect(() =>
      checkpointOfMessage({ value: Buffer.from('{') }, 'audit.checkpoints partition 0 offset 7'),
    ).toThrow(/^audit\.checkpoints partition 0 offset 7 is not a signed checkpoint: not JSON/)
    expect(() =>
      checkpointOfMessage({ value: Buffer.from(JSON.stringify({ ...checkpoint, last_seq: -1 })) }, 'm'),
    ).toThrow('m is not a signed checkpoint: last_seq is -1, expected a non-negative integer')
    expect(() =>
      checkpointOfMessage({ value: Buffer.from(JSON.stringify({ ...checkpoint, form: 'other' })) }, 'm'),
    ).toThrow('m is not a signed checkpoint: form is "other"')
  })
})
