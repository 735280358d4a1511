import type { StreamMessage } from '../kafkaRecord.js'
import type { ProcessingStep } from '../processingStep.js'
import { isolated, type RecordOutcome } from '../recordFailure.js'

/** What runTask hands on: the input (a failed record's dead letter needs it) and its outcome. */
export type Processed<T, U> = { readonly input: T; readonly outcome: RecordOutcome<U> }

/**
 * Runs `task` on each message's payload and hands the outcome on with the same committable. The
 * task is isolated by construction: whatever it throws for one record (short of an outage, which
 * holds the partition) becomes that record's failure for the next step to dead-letter.
 */
export function runTask<T, U>(
  task: (payload: T) => Promise<U> | U,
  next: ProcessingStep<Processed<T, U>>,
): ProcessingStep<T> {
  return {
    async submit(message: StreamMessage<T>) {
      const outcome = await isolated(() => task(message.payload))
      await next.submit({ payload: { input: message.payload, outcome }, committable: message.committable })
    },
    poll: () => next.poll(),
    join: () => next.join(),
    close: () => next.close(),
  }
}

/** Hands each message on unchanged: what a step after isolation that needs no work uses. */
export function mapPayload<T, U>(map: (payload: T) => U, next: ProcessingStep<U>): ProcessingStep<T> {
  return {
    submit: (message) => next.submit({ payload: map(message.payload), committable: message.committable }),
    poll: () => next.poll(),
    join: () => next.join(),
    close: () => next.close(),
  }
}
