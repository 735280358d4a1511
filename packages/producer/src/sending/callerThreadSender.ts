import { Partitioners, type Kafka } from 'kafkajs'
import { renewingProducer } from '@audit-pipeline/kafka'
import { ProducerError } from '../producerError.js'
import { kafkaMessages, type Outgoing } from './outgoing.js'
import type { Sender } from './sender.js'

export type KafkaSenderOptions = {
  kafka: Kafka
  topic: string
  lanes: number
  /** Where the brokers are, for error messages only. */
  brokers?: string[]
}

/**
 * Sends on the thread that calls it, one kafkajs producer per lane. Each producer is idempotent
 * with one request in flight, so a lane's events stay in order through retries; several lanes
 * keep several batches in flight.
 */
export function callerThreadSender(options: KafkaSenderOptions): Sender {
  const { kafka, topic } = options
  // Replaced after a failed send: kafkajs's idempotent producer rolls its sequence numbers back
  // after a failure, even one the broker did write, so the caller's retry with the same producer
  // could be refused for ever (OUT_OF_ORDER_SEQUENCE_NUMBER) or, with other events at the same
  // numbers, taken for a duplicate and dropped. A new producer id starts the numbers afresh.
  const producers = Array.from({ length: options.lanes }, () =>
    renewingProducer(
      () =>
        kafka.producer({
          idempotent: true,
          createPartitioner: Partitioners.DefaultPartitioner,
          maxInFlightRequests: 1,
          // Bounded, so an unreachable broker becomes an error for the caller instead of a hang.
          retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
        }),
      // The caller hears of a failed send through the rejected promise.
      { warn: () => undefined, debug: () => undefined },
    ),
  )
  const disconnect = async () => {
    await Promise.allSettled(producers.map((producer) => producer.disconnect()))
  }
  return {
    lanes: options.lanes,
    thread: 'caller',
    async connect() {
      try {
        await Promise.all(producers.map((producer) => producer.connect()))
      } catch (error) {
        await disconnect()
        throw new ProducerError(
          'BROKER_UNAVAILABLE',
          `cannot connect to Kafka${at(options.brokers?.join(','))}: ${(error as Error).message}`,
          true,
          { cause: error },
        )
      }
      try {
        await assertTopicExists(kafka, topic, options.brokers)
      } catch (error) {
        await disconnect()
        throw error
      }
    },
    async send(lane, batch: readonly Outgoing[]) {
      const producer = producers[lane]
      if (!producer) throw new RangeError(`no lane ${lane} (there are ${producers.length})`)
      try {
        await producer.send({ topic, acks: -1, messages: kafkaMessages(batch) })
      } catch (error) {
        throw new ProducerError(
          'SEND_FAILED',
          `Kafka did not accept ${batch.length} event(s) on ${topic}: ${(error as Error).message}`,
          true,
          { cause: error },
        )
      }
    },
    disconnect,
  }
}

const at = (where: string | undefined) => (where ? ` at ${where}` : '')

/** Sending to a missing topic would only fail after every retry; say so at start-up instead. */
async function assertTopicExists(kafka: Kafka, topic: string, brokers: string[] | undefined): Promise<void> {
  const admin = kafka.admin()
  try {
    await admin.connect()
    const topics = await admin.listTopics()
    if (!topics.includes(topic)) {
      throw new ProducerError(
        'TOPIC_MISSING',
        `topic ${topic} does not exist${at(brokers?.join(','))}: create it (the local stack creates the pipeline's topics) or send to another topic`,
        false,
      )
    }
  } finally {
    await admin.disconnect()
  }
}
