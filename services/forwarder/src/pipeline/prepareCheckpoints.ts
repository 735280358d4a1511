import { checkpointHash, signedCheckpointOfJson } from '@audit-pipeline/integrity'
import {
  mapPayload,
  recordFailureOf,
  type KafkaRecord,
  type ProcessingStep,
  type RecordFailure,
} from '@audit-pipeline/kafka'
import type { ForwardItem } from './prepareRecords.js'

/**
 * The first step of a checkpoints destination (`input: checkpoints`), in place of decoding and
 * preparing events: each record of the checkpoints topic becomes a checkpoint to send, or a dead
 * letter (prepareCheckpoint). No I/O, so nothing it meets can stop the partition.
 */
export function prepareCheckpoints(next: ProcessingStep<ForwardItem>): ProcessingStep<KafkaRecord> {
  return mapPayload(prepareCheckpoint, next)
}

/**
 * One record of the checkpoints topic: the signed checkpoint it holds, checked as `verify` checks
 * the topic (signedCheckpointOfJson: JSON, the checkpoint form, every field of the right type), sent
 * as JSON with exactly the checkpoint's fields (what the sink wrote), so its signature verifies at
 * the receiver. Its id, from which the batch's `webhook-id` is derived, is its checkpoint hash:
 * the same checkpoint sent again has the same one. Anything else (not JSON, another form, a field
 * missing, a tombstone) is dead-lettered as CHECKPOINT_INVALID saying what is wrong.
 *
 * The signature is not checked here: the forwarder holds no public key, and a receiver that
 * anchors checkpoints checks them against the published keys as `verify` does.
 */
export function prepareCheckpoint(record: KafkaRecord): ForwardItem {
  const where = `${record.topic} partition ${record.partition} offset ${record.offset}`
  const deadLetter = (failure: RecordFailure): ForwardItem => ({ kind: 'deadLetter', record, failure })
  try {
    if (record.value === null) {
      return deadLetter({
        errorClass: 'CHECKPOINT_INVALID',
        message: `${where} is not a signed checkpoint: a null value (tombstone)`,
      })
    }
    const read = signedCheckpointOfJson(record.value.toString('utf8'))
    if ('problem' in read) {
      return deadLetter({
        errorClass: 'CHECKPOINT_INVALID',
        message: `${where} is not a signed checkpoint: ${read.problem}`.slice(0, 1000),
      })
    }
    const { checkpoint } = read
    let id: string
    try {
      id = checkpointHash(checkpoint)
    } catch (error) {
      // A string with a lone surrogate has no RFC 8785 form: nothing the sink signed.
      return deadLetter({
        errorClass: 'CHECKPOINT_INVALID',
        message: `${where} is not a signed checkpoint: it has no canonical form (${(error as Error).message})`,
      })
    }
    const entry = JSON.stringify(checkpoint)
    return { kind: 'send', record, eventId: id, entry, bytes: Buffer.byteLength(entry) }
  } catch (error) {
    return deadLetter(recordFailureOf(error))
  }
}
