import type { Outgoing } from './outgoing.js'

/**
 * Where the producer's batches go to Kafka: on the caller's thread (callerThreadSender.ts) or on
 * a thread of their own (workerThreadSender.ts). Each lane has one kafkajs producer and one batch
 * in flight; `send` resolves once Kafka acknowledged the batch (acks from all in-sync replicas)
 * and rejects with a ProducerError otherwise.
 */
export type Sender = {
  readonly lanes: number
  readonly thread: 'caller' | 'worker'
  /** Connects every lane and checks that the topic exists (ProducerError BROKER_UNAVAILABLE, TOPIC_MISSING). */
  connect(): Promise<void>
  send(lane: number, batch: readonly Outgoing[]): Promise<void>
  disconnect(): Promise<void>
}
