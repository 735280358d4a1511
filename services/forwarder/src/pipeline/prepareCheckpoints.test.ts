import { describe, expect, it } from 'vitest'
import { checkpointHash, verifyCheckpointSignature, type SignedCheckpoint } from '@audit-pipeline/integrity'
import { checkpointMessage, signedCheckpoints, testSigningKey } from '../testing/signedCheckpoints.js'
import { kafkaRecord } from '../testing/steps.js'
import { prepareCheckpoint } from './prepareCheckpoints.js'

const { key, keys } = testSigningKey()
const [first, second] = signedCheckpoints({ tenant: 'witify', chain: 'audit.normalized/0', count: 2, key })

const recordOf = (offset: number, value: string | null) =>
  kafkaRecord(offset, { topic: 'audit.checkpoints', value: value === null ? null : Buffer.from(value) })

const failureOf = (offset: number, value: string | null) => {
  const item = prepareCheckpoint(recordOf(offset, value))
  if (item.kind !== 'deadLetter') throw new Error(`expected a dead letter, got ${item.kind}`)
  return item.failure
}

describe('prepareCheckpoint', () => {
  it('sends the signed checkpoint as it was published, its id its checkpoint hash', () => {
    for (const checkpoint of [first!, second!]) {
      const { value } = checkpointMessage(checkpoint)
      const item = prepareCheckpoint(recordOf(4, value))
      expect(item).toMatchObject({ kind: 'send', eventId: checkpointHash(checkpoint), entry: value })
      if (item.kind !== 'send') continue
      expect(item.bytes).toBe(Buffer.byteLength(value))
      expect(item.record.offset).toBe('4')
      expect(verifyCheckpointSignature(JSON.parse(item.entry) as SignedCheckpoint, keys)).toBe('valid')
    }
  })

  it('dead-letters a record that holds no signed checkpoint as CHECKPOINT_INVALID, saying where and what is wrong', () => {
    expect(failureOf(7, 'not json')).toEqual({
      errorClass: 'CHECKPOINT_INVALID',
      message: expect.stringMatching(
        /^audit\.checkpoints partition 0 offset 7 is not a signed checkpoint: not JSON \(/,
      ) as string,
    })
    expect(failureOf(8, JSON.stringify({ ...first!, merkle_root: 'abc' })).message).toBe(
      'audit.checkpoints partition 0 offset 8 is not a signed checkpoint: merkle_root is "abc"',
    )
    expect(failureOf(9, JSON.stringify({ ...first!, form: 'audit-event/1' })).message).toBe(
      'audit.checkpoints partition 0 offset 9 is not a signed checkpoint: form is "audit-event/1"',
    )
    expect(failureOf(10, '[1]').message).toBe(
      'audit.checkpoints partition 0 offset 10 is not a signed checkpoint: not a JSON object',
    )
    expect(failureOf(11, null)).toEqual({
      errorClass: 'CHECKPOINT_INVALID',
      message: 'audit.checkpoints partition 0 offset 11 is not a signed checkpoint: a null value (tombstone)',
    })
    // A lone surrogate (written as a JSON escape) has no canonical form: the sink signs none such.
    const lone = JSON.stringify({ ...first!, tenant: 'x' }).replace('"tenant":"x"', '"tenant":"\\ud800"')
    expect(failureOf(12, lone)).toEqual({
      errorClass: 'CHECKPOINT_INVALID',
      message: expect.stringMatching(
        /^audit\.checkpoints partition 0 offset 12 is not a signed checkpoint: it has no canonical form/,
      ) as string,
    })
  })
})
