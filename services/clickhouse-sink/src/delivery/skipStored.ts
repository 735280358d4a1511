import type { KafkaRecord, Processed, ProcessingStep } from '@audit-pipeline/kafka'
import type { SinkItem } from '../batching/sinkBatch.js'
import type { DecodedRow } from './decodeRow.js'
import type { StoredRowLedger } from './storedRowLedger.js'
import type { StoredRow } from './storedRows.js'

export type SkipStoredOptions = {
  /** This generation's knowledge of stored rows; new with every generation of the steps. */
  ledger: StoredRowLedger
  /** The rows of a partition stored from `fromOffset` on (the caller bounds and retries it). */
  storedRows(topic: string, partition: number, fromOffset: bigint): Promise<StoredRow[]>
}

/**
 * The step after decoding: turns each record's outcome into what the batch takes, a row to
 * write (or, stored already, only to chain), a record a batch of this generation holds already
 * (only its offset is committed), or a failure to dead-letter. When a partition's records do not continue where this generation left off, the
 * rows stored from there are looked up first (storedRowLedger.ts says what is skipped and why).
 */
export function skipStored(
  options: SkipStoredOptions,
  next: ProcessingStep<SinkItem>,
): ProcessingStep<Processed<KafkaRecord, DecodedRow>> {
  const { ledger } = options
  return {
    async submit({ payload: { input, outcome }, committable }) {
      const { topic, partition } = input
      const offset = BigInt(input.offset)
      if (ledger.needsLookup(topic, partition, offset)) {
        ledger.learn(topic, partition, await options.storedRows(topic, partition, offset))
      }
      let item: SinkItem
      if (!outcome.ok) {
        ledger.decide(topic, partition, offset, undefined)
        item = { kind: 'failed', failed: { record: input, failure: outcome.failure } }
      } else {
        const decision = ledger.decide(topic, partition, offset, outcome.value.eventId)
        item =
          decision === 'taken'
            ? { kind: 'stored' }
            : { kind: 'row', row: { ...outcome.value, record: input, eventStored: decision === 'stored' } }
      }
      await next.submit({ payload: item, committable })
    },
    poll: () => next.poll(),
    join: () => next.join(),
    close: () => next.close(),
  }
}
