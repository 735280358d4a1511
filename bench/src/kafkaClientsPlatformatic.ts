import type {
  AdapterOptions,
  ClientConsumer,
  ConsumedRecord,
  ConsumerOptions,
  KafkaClientAdapter,
  OutRecord,
} from './kafkaClientsAdapter.js'

/**
 * @platformatic/kafka, as its documentation shows: a Producer with `idempotent: true` (which it
 * runs with one request in flight per connection and acks=all), and a Consumer whose messages
 * stream is read with manual commits (`message.commit()`, the offset after it). The client has
 * no eachBatch: records are gathered per partition as they stream in and handed over as a batch,
 * up to `concurrency` partitions at a time, the stream paused while too many wait. Loaded from
 * the cache folder (kafkaClientsInstall.ts), so only the few types used are declared here.
 */

type Message = {
  topic: string
  partition: number
  offset: bigint
  key: Buffer | null
  value: Buffer | null
  commit(): Promise<void>
}
type MessagesStream = {
  on(event: 'data', listener: (message: Message) => void): void
  on(event: 'error', listener: (error: Error) => void): void
  pause(): void
  resume(): void
  close(): Promise<void>
}
type Consumer = {
  groupId: string
  consume(options: Record<string, unknown>): Promise<MessagesStream>
  close(force?: boolean): Promise<void>
}
type Transaction = {
  send(options: {
    messages: { topic: string; key?: Buffer | null; value?: Buffer | null }[]
  }): Promise<unknown>
  addConsumer(consumer: Consumer): Promise<void>
  addOffset(message: Message): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
}
type Producer = {
  initIdempotentProducer(options: Record<string, never>): Promise<unknown>
  send(options: {
    messages: { topic: string; key?: Buffer | null; value?: Buffer | null }[]
  }): Promise<unknown>
  beginTransaction(): Promise<Transaction>
  close(): Promise<void>
}
export type PlatformaticModule = {
  Producer: new (options: Record<string, unknown>) => Producer
  Consumer: new (options: Record<string, unknown>) => Consumer
  ProduceAcks: { ALL: number }
  MessagesStreamModes: { COMMITTED: string }
  MessagesStreamFallbackModes: { EARLIEST: string }
  FetchIsolationLevels: { READ_COMMITTED: number }
}

/** Records handed over in one batch at most (as the confluent adapter's eachBatch). */
const maxBatchRecords = 2_000
/** Records waiting in this adapter before the stream is paused, and resumed below half of it. */
const maxWaitingRecords = 6 * maxBatchRecords

export function platformaticAdapter(
  module: PlatformaticModule,
  version: string,
  options: AdapterOptions,
): KafkaClientAdapter {
  const base = (clientId: string) => ({ clientId, bootstrapBrokers: options.brokers })
  const messagesOf = (topic: string, records: readonly OutRecord[]) =>
    records.map(({ key, value }) => ({ topic, key, value }))
  return {
    name: 'platformatic',
    version,
    settings: {
      producer: 'idempotent (one request in flight per connection, acks -1), autocreateTopics off',
      consumer: `messages stream, autocommit off, message.commit(); batches of up to ${maxBatchRecords} per partition; maxWaitTime ${options.maxWaitMs} ms`,
    },
    producer: async ({ clientId }) => {
      const producer = new module.Producer({
        ...base(clientId),
        idempotent: true,
        acks: module.ProduceAcks.ALL,
        autocreateTopics: false,
      })
      // As kafkajs's and librdkafka's connect do: the producer id before the first send.
      await producer.initIdempotentProducer({})
      return {
        send: async (topic, records) => {
          await producer.send({ messages: messagesOf(topic, records) })
        },
        close: () => producer.close(),
      }
    },
    // The transactional id is initialised by the first beginTransaction.
    transactionalProducer: ({ clientId, transactionalId }) => {
      const producer = new module.Producer({
        ...base(clientId),
        idempotent: true,
        transactionalId,
        acks: module.ProduceAcks.ALL,
        autocreateTopics: false,
      })
      return Promise.resolve({
        begin: async () => {
          const transaction = await producer.beginTransaction()
          return {
            send: async (topic, records) => {
              await transaction.send({ messages: messagesOf(topic, records) })
            },
            sendOffsets: async (consumer, last) => {
              await transaction.addConsumer(rawConsumerOf(consumer))
              await transaction.addOffset(last.raw as Message)
            },
            commit: () => transaction.commit(),
            abort: () => transaction.abort(),
          }
        },
        close: () => producer.close(),
      })
    },
    consumer: (consumerOptions) => startConsumer(module, base, options, consumerOptions),
  }
}

async function startConsumer(
  module: PlatformaticModule,
  base: (clientId: string) => Record<string, unknown>,
  options: AdapterOptions,
  { groupId, topic, concurrency, onBatch, onFailure }: ConsumerOptions,
): Promise<ClientConsumer> {
  const consumer = new module.Consumer({
    ...base(`${groupId}-member`),
    groupId,
    autocommit: false,
    maxWaitTime: options.maxWaitMs,
    isolationLevel: module.FetchIsolationLevels.READ_COMMITTED,
  })
  const stream = await consumer.consume({
    topics: [topic],
    mode: module.MessagesStreamModes.COMMITTED,
    fallbackMode: module.MessagesStreamFallbackModes.EARLIEST,
    autocommit: false,
  })
  const handle: ClientConsumer & { raw: Consumer } = {
    raw: consumer,
    commit: (last) => (last.raw as Message).commit(),
    close: async () => {
      await stream.close()
      await consumer.close(true)
    },
  }
  const waiting = new Map<number, ConsumedRecord[]>()
  const busy = new Set<number>()
  let waitingCount = 0
  let paused = false
  const schedule = (partition: number) => {
    if (busy.has(partition) || busy.size >= concurrency || (waiting.get(partition)?.length ?? 0) === 0) return
    busy.add(partition)
    // After the messages the stream is emitting now: a batch takes what one fetch brought.
    setImmediate(() => void drain(partition))
  }
  const drain = async (partition: number) => {
    try {
      const queue = waiting.get(partition) ?? []
      while (queue.length > 0) {
        const records = queue.splice(0, maxBatchRecords)
        waitingCount -= records.length
        if (paused && waitingCount < maxWaitingRecords / 2) {
          paused = false
          stream.resume()
        }
        await onBatch({ topic, partition, records }, handle)
      }
    } catch (error) {
      onFailure(error instanceof Error ? error.message : String(error))
    } finally {
      busy.delete(partition)
      for (const other of waiting.keys()) schedule(other)
    }
  }
  stream.on('error', (error) => onFailure(error.message))
  stream.on('data', (message) => {
    const queue = waiting.get(message.partition) ?? []
    waiting.set(message.partition, queue)
    queue.push({
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      raw: message,
    })
    waitingCount++
    if (!paused && waitingCount >= maxWaitingRecords) {
      paused = true
      stream.pause()
    }
    schedule(message.partition)
  })
  return handle
}

function rawConsumerOf(consumer: ClientConsumer): Consumer {
  const { raw } = consumer as ClientConsumer & { raw?: Consumer }
  if (raw === undefined) throw new Error('not a consumer of the platformatic adapter')
  return raw
}
