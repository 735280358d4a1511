import type { PartitionOffset } from '../kafkaRecord.js'
import type { ProcessingStep } from '../processingStep.js'

/**
 * The last step: commits each message's committable once everything before it is done (arroyo's
 * CommitOffsets). `commit` is the runtime's, which knows how to commit and what a refused commit
 * means.
 */
export function commitOffsets<T>(commit: (offsets: PartitionOffset[]) => Promise<void>): ProcessingStep<T> {
  return {
    async submit(message) {
      if (message.committable.size > 0) await commit([...message.committable.values()])
    },
    poll: () => Promise.resolve(),
    join: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }
}
