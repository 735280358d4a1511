import type { AuditEvent } from '@audit-pipeline/event-model'
import {
  mapPayload,
  recordFailureOf,
  type KafkaRecord,
  type Processed,
  type ProcessingStep,
  type RecordFailure,
  type RecordOutcome,
} from '@audit-pipeline/kafka'
import type { Destination } from '../destinations/destination.js'
import { prepareEvent } from './prepareEvent.js'

/** What one record becomes for one destination, on its way to a batch. */
export type ForwardItem =
  | {
      readonly kind: 'send'
      /** Kept for the dead letter, should the batch not be delivered. */
      readonly record: KafkaRecord
      /** The event's id; a checkpoint's hash (prepareCheckpoints). The batch id is derived from them. */
      readonly eventId: string
      readonly entry: string
      readonly bytes: number
    }
  | { readonly kind: 'skip' }
  | { readonly kind: 'deadLetter'; readonly record: KafkaRecord; readonly failure: RecordFailure }

/**
 * Error classes a record is dead-lettered with before delivery: the codec's final ones, a filter
 * that could not decide, a record of the checkpoints topic that holds no signed checkpoint
 * (prepareCheckpoints), and RECORD_FAILED for anything else (reason: what failed), so that the
 * `audit-dlq-error-class` header stays a closed list whatever a dependency throws.
 */
export const recordFailureClasses = [
  'EVENT_UNDECODABLE',
  'SCHEMA_UNKNOWN',
  'FILTER_FAILED',
  'CHECKPOINT_INVALID',
  'RECORD_FAILED',
] as const

const knownClasses: ReadonlySet<string> = new Set(recordFailureClasses)

/**
 * The step after decoding: filters, projects and formats each decoded event for the destination
 * (prepareEvent, which also computes its content digest), and turns a record that failed, here
 * or while decoding, into a dead-letter item. Preparing is isolated per record: whatever it
 * throws (a snapshot too deep to redact, a value JSON cannot write, a bug) dead-letters that
 * record, as RECORD_FAILED, and the records behind it go on. Nothing it throws can be taken for
 * an outage: preparing does no I/O, so a record can never stop its partition.
 */
export function prepareRecords(
  destination: Pick<Destination, 'filter' | 'projection' | 'format'>,
  next: ProcessingStep<ForwardItem>,
): ProcessingStep<Processed<KafkaRecord, AuditEvent>> {
  return mapPayload(({ input, outcome }) => prepareRecord(input, outcome, destination), next)
}

function prepareRecord(
  record: KafkaRecord,
  decoded: RecordOutcome<AuditEvent>,
  destination: Pick<Destination, 'filter' | 'projection' | 'format'>,
): ForwardItem {
  if (!decoded.ok) return { kind: 'deadLetter', record, failure: asRecordFailure(decoded.failure) }
  let prepared
  try {
    prepared = prepareEvent(decoded.value, destination)
  } catch (error) {
    return { kind: 'deadLetter', record, failure: asRecordFailure(recordFailureOf(error)) }
  }
  switch (prepared.kind) {
    case 'send':
      return { ...prepared, record }
    case 'skip':
      return { kind: 'skip' }
    case 'deadLetter':
      return {
        kind: 'deadLetter',
        record,
        failure: { errorClass: prepared.errorClass, message: prepared.message },
      }
  }
}

/** A failure in one of recordFailureClasses: an unknown class becomes RECORD_FAILED's reason. */
function asRecordFailure(failure: RecordFailure): RecordFailure {
  if (knownClasses.has(failure.errorClass)) return failure
  return { errorClass: 'RECORD_FAILED', reason: failure.errorClass, message: failure.message }
}
