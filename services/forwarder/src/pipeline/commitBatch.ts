import { commitOffsets, type ProcessingStep, type RuntimeContext } from '@audit-pipeline/kafka'
import type { FinishedBatch } from './deliverBatch.js'

/**
 * The last step: commits the offset after each finished batch (delivered or dead-lettered, its
 * dead letters written), through the runtime's commit, then tells the runtime how many records
 * went to the dead-letter topic (its metric and guard) and reports the batch once: counters and
 * log lines from one call cannot disagree.
 */
export function commitBatch(
  context: Pick<RuntimeContext, 'commit' | 'countDeadLetters'>,
  report: (batch: FinishedBatch) => void,
): ProcessingStep<FinishedBatch> {
  const commit = commitOffsets<FinishedBatch>(context.commit)
  return {
    async submit(message) {
      await commit.submit(message)
      const batch = message.payload
      if (batch.deadLettered.length > 0)
        context.countDeadLetters(batch.deadLettered.map((letter) => letter.failure.errorClass))
      report(batch)
    },
    poll: () => commit.poll(),
    join: () => commit.join(),
    close: () => commit.close(),
  }
}
