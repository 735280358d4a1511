import { createRequire } from 'node:module'
import { Kafka, logLevel, Partitioners, type Consumer } from 'kafkajs'
import {
  consumedBatchOf,
  keyValueMessages,
  offsetAfter,
  type AdapterOptions,
  type ClientConsumer,
  type KafkaClientAdapter,
} from './kafkaClientsAdapter.js'

/**
 * kafkajs as the services use it (packages/kafka, services/normalizer): an idempotent producer
 * with one request in flight (kafkajs serialises an idempotent producer's requests per broker
 * anyway), acks=all, and eachBatch consumers committing with commitOffsets.
 */
export function kafkajsAdapter(options: AdapterOptions): KafkaClientAdapter {
  const kafka = new Kafka({
    clientId: 'bench-kafka-clients',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  })
  /** As the services make theirs: idempotent, one request in flight, the default partitioner. */
  const producerOf = (clientId: string, transactionalId?: string) =>
    new Kafka({ clientId, brokers: options.brokers, logLevel: logLevel.NOTHING }).producer({
      ...(transactionalId !== undefined && { transactionalId }),
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    })
  return {
    name: 'kafkajs',
    version: kafkajsVersion(),
    settings: {
      producer: 'idempotent, maxInFlightRequests 1, acks -1 (as the normalizer)',
      consumer: `eachBatch, partitionsConsumedConcurrently, autoCommit off, maxWaitTimeInMs ${options.maxWaitMs}`,
    },
    producer: async ({ clientId }) => {
      const producer = producerOf(clientId)
      await producer.connect()
      return {
        send: async (topic, records) => {
          await producer.sendBatch({
            topicMessages: [{ topic, messages: keyValueMessages(records) }],
            acks: -1,
          })
        },
        close: () => producer.disconnect(),
      }
    },
    transactionalProducer: async ({ clientId, transactionalId }) => {
      const producer = producerOf(clientId, transactionalId)
      await producer.connect()
      return {
        begin: async () => {
          const transaction = await producer.transaction()
          return {
            send: async (topic, records) => {
              await transaction.sendBatch({
                topicMessages: [{ topic, messages: keyValueMessages(records) }],
                acks: -1,
              })
            },
            sendOffsets: async (consumer, last) => {
              await transaction.sendOffsets({
                consumerGroupId: groupIdOf(consumer),
                topics: [{ topic: last.topic, partitions: [offsetAfter(last)] }],
              })
            },
            commit: () => transaction.commit(),
            abort: () => transaction.abort(),
          }
        },
        close: () => producer.disconnect(),
      }
    },
    consumer: async ({ groupId, topic, concurrency, onBatch, onFailure }) => {
      const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: options.maxWaitMs })
      consumer.on(consumer.events.CRASH, ({ payload }) => onFailure(payload.error.message))
      const handle: ClientConsumer & { groupId: string } = {
        groupId,
        commit: async (last) => {
          await consumer.commitOffsets([offsetAfter(last)])
        },
        close: () => consumer.disconnect(),
      }
      await consumer.connect()
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: concurrency,
        eachBatch: async ({ batch }) => {
          if (batch.messages.length === 0) return
          await onBatch(consumedBatchOf(batch), handle)
        },
      })
      return handle
    },
  }
}

function groupIdOf(consumer: ClientConsumer): string {
  const { groupId } = consumer as ClientConsumer & { groupId?: string }
  if (groupId === undefined) throw new Error('not a kafkajs consumer of this adapter')
  return groupId
}

function kafkajsVersion(): string {
  const require = createRequire(import.meta.url)
  return (require('kafkajs/package.json') as { version: string }).version
}
