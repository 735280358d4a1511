import type { StreamMessage } from './kafkaRecord.js'

/**
 * One step of a consumer, after arroyo's ProcessingStrategy: steps are chained, each handing its
 * results to the next, and the last one commits. The runtime drives the first step.
 */
export interface ProcessingStep<T> {
  /**
   * Takes one message. Resolving means the step owns it; a step that is full waits before
   * resolving, which is how backpressure reaches the consumer (it stops reading meanwhile).
   */
  submit(message: StreamMessage<T>): Promise<void>
  /** Does the work that is due without a new message: after each fetch and on a timer. */
  poll(): Promise<void>
  /** Finishes everything submitted, down to the commit: on a clean stop. */
  join(): Promise<void>
  /**
   * Drops what is not finished, once work in flight settled: on a restart after a failure,
   * when what was not committed will be read again.
   */
  close(): Promise<void>
}
