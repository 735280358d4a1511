import {
  consumedBatchOf,
  keyValueMessages,
  offsetAfter,
  type AdapterOptions,
  type ClientConsumer,
  type KafkaClientAdapter,
} from './kafkaClientsAdapter.js'

/**
 * @confluentinc/kafka-javascript through its KafkaJS-compatible API (`require(…).KafkaJS`), the
 * way its migration guide says: the kafkaJS block for what kafkajs had, librdkafka properties
 * beside it. Loaded from the cache folder (kafkaClientsInstall.ts), so only the few types used
 * are declared here.
 */

type Message = { key?: Buffer | null; value: Buffer | null }
type Producer = {
  connect(): Promise<void>
  disconnect(): Promise<void>
  send(record: { topic: string; messages: Message[] }): Promise<unknown>
  transaction(): Promise<Producer>
  sendOffsets(args: {
    consumer: Consumer
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[]
  }): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
}
type BatchMessage = { offset: string; key: Buffer | null; value: Buffer | null; leaderEpoch?: number }
type Consumer = {
  connect(): Promise<void>
  disconnect(): Promise<void>
  subscribe(options: { topics: string[] }): Promise<void>
  run(options: {
    partitionsConsumedConcurrently: number
    eachBatch: (payload: {
      batch: { topic: string; partition: number; messages: BatchMessage[] }
    }) => Promise<void>
  }): Promise<void>
  commitOffsets(
    offsets: { topic: string; partition: number; offset: string; leaderEpoch?: number }[],
  ): Promise<void>
}
type Kafka = {
  producer(config: Record<string, unknown>): Producer
  consumer(config: Record<string, unknown>): Consumer
}
export type ConfluentModule = {
  librdkafkaVersion: string
  KafkaJS: { Kafka: new (config: Record<string, unknown>) => Kafka; logLevel: { NOTHING: number } }
}

/**
 * Records in one eachBatch call at most. The client's default is 32, which turns every 32 records
 * into a produce request and a commit; kafkajs hands over a fetch (up to 1 MiB per partition,
 * ~1,800 of these records), so this is the same order of magnitude.
 */
const maxBatchRecords = 2_000

export function confluentAdapter(
  module: ConfluentModule,
  version: string,
  options: AdapterOptions,
): KafkaClientAdapter {
  const { Kafka, logLevel } = module.KafkaJS
  const kafka = (clientId: string) =>
    new Kafka({ kafkaJS: { clientId, brokers: options.brokers, logLevel: logLevel.NOTHING } })
  // linger.ms 0: each send is awaited (a flush, then the commit), so librdkafka's default wait of
  // 5 ms for a fuller batch would only add latency; many sends in flight still share requests.
  const producerConfig = { 'linger.ms': 0 }
  return {
    name: 'confluent',
    version: `${version} (librdkafka ${module.librdkafkaVersion})`,
    settings: {
      producer: 'idempotent, acks -1, linger.ms 0 (librdkafka: up to 5 requests in flight, order kept)',
      consumer: `eachBatch (js.consumer.max.batch.size ${maxBatchRecords}), partitionsConsumedConcurrently, autoCommit off, maxWaitTimeInMs ${options.maxWaitMs}`,
    },
    producer: async ({ clientId }) => {
      const producer = kafka(clientId).producer({
        ...producerConfig,
        kafkaJS: { idempotent: true, acks: -1, allowAutoTopicCreation: false },
      })
      await producer.connect()
      return {
        send: async (topic, records) => {
          await producer.send({ topic, messages: keyValueMessages(records) })
        },
        close: () => producer.disconnect(),
      }
    },
    transactionalProducer: async ({ clientId, transactionalId }) => {
      const producer = kafka(clientId).producer({
        ...producerConfig,
        kafkaJS: { transactionalId, idempotent: true, acks: -1, allowAutoTopicCreation: false },
      })
      // Connecting initialises the transactional id (librdkafka's init_transactions).
      await producer.connect()
      return {
        begin: async () => {
          const transaction = await producer.transaction()
          return {
            send: async (topic, records) => {
              await transaction.send({ topic, messages: keyValueMessages(records) })
            },
            sendOffsets: async (consumer, last) => {
              await transaction.sendOffsets({
                consumer: rawConsumerOf(consumer),
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
    consumer: async ({ groupId, topic, concurrency, onBatch }) => {
      const consumer = kafka(`${groupId}-member`).consumer({
        'js.consumer.max.batch.size': maxBatchRecords,
        kafkaJS: {
          groupId,
          fromBeginning: true,
          autoCommit: false,
          maxWaitTimeInMs: options.maxWaitMs,
          allowAutoTopicCreation: false,
        },
      })
      const handle: ClientConsumer & { raw: Consumer } = {
        raw: consumer,
        commit: async (last) => {
          const { leaderEpoch } = last.raw as BatchMessage
          await consumer.commitOffsets([
            { ...offsetAfter(last), ...(leaderEpoch !== undefined && leaderEpoch >= 0 && { leaderEpoch }) },
          ])
        },
        close: () => consumer.disconnect(),
      }
      await consumer.connect()
      await consumer.subscribe({ topics: [topic] })
      await consumer.run({
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

function rawConsumerOf(consumer: ClientConsumer): Consumer {
  const { raw } = consumer as ClientConsumer & { raw?: Consumer }
  if (raw === undefined) throw new Error('not a consumer of the confluent adapter')
  return raw
}
