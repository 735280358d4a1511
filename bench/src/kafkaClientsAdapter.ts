/**
 * What the `kafka-clients` section asks of each Kafka client: one interface over kafkajs,
 * @confluentinc/kafka-javascript and @platformatic/kafka, so that both measured paths and every
 * guarantee check run the same code whatever the client. Each adapter uses its client the way
 * its documentation recommends for the job (kafkaClientsKafkajs.ts, kafkaClientsConfluent.ts,
 * kafkaClientsPlatformatic.ts).
 */

export type OutRecord = { key: Buffer | null; value: Buffer | null }

export type ConsumedRecord = OutRecord & {
  topic: string
  partition: number
  offset: bigint
  /** The client's own message object (a transaction may need it to add the offset). */
  raw: unknown
}

/** Records of one partition, in offset order. */
export type ConsumedBatch = { topic: string; partition: number; records: ConsumedRecord[] }

/** Idempotent, acks=all, no topic auto-creation, connected. */
export type ClientProducer = {
  /** Sends `records` to `topic`, in order (keys partitioned by the client's default partitioner); resolves once all are acknowledged. */
  send(topic: string, records: readonly OutRecord[]): Promise<void>
  close(): Promise<void>
}

export type ClientConsumer = {
  /** Commits `nextOffset` (the offset after `last`, the next to read) on `last`'s partition. */
  commit(last: ConsumedRecord): Promise<void>
  /** Leaves the group and disconnects. */
  close(): Promise<void>
}

export type ClientTransaction = {
  send(topic: string, records: readonly OutRecord[]): Promise<void>
  /** Adds the consumer group's offset after `last` to the transaction (exactly once consume-transform-produce). */
  sendOffsets(consumer: ClientConsumer, last: ConsumedRecord): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
}

export type TransactionalProducer = {
  /** Begins a transaction; the first one initialises the transactional id (fencing an older producer with it). */
  begin(): Promise<ClientTransaction>
  close(): Promise<void>
}

export type ConsumerOptions = {
  groupId: string
  topic: string
  /** Partitions whose batches may be handled at once (kafkajs's partitionsConsumedConcurrently). */
  concurrency: number
  /** Awaited before the partition's next batch is handed over. No offset is committed but by `commit`. */
  onBatch: (batch: ConsumedBatch, consumer: ClientConsumer) => Promise<void>
  /** Called with an error the client reports outside onBatch (a crash): the run fails with it. */
  onFailure: (message: string) => void
}

export type KafkaClientAdapter = {
  name: string
  version: string
  /** Client settings that differ from the client's defaults, for the report. */
  settings: { producer: string; consumer: string }
  producer(options: { clientId: string }): Promise<ClientProducer>
  transactionalProducer(options: {
    clientId: string
    transactionalId: string
  }): Promise<TransactionalProducer>
  /** A group member reading `topic` from the committed offsets, else from the beginning, read_committed. */
  consumer(options: ConsumerOptions): Promise<ClientConsumer>
}

/** Broker settings every adapter gets. */
export type AdapterOptions = {
  brokers: string[]
  /** Longest a fetch waits on a partition with nothing new, ms (the same for every client). */
  maxWaitMs: number
}

/** Records to send as messages of the KafkaJS shape (kafkajs, and confluent's KafkaJS API). */
export const keyValueMessages = (records: readonly OutRecord[]) =>
  records.map(({ key, value }) => ({ key, value }))

/** A batch of the KafkaJS shape as the adapters' records, each keeping its client's message. */
export function consumedBatchOf<
  M extends { offset: string; key: Buffer | null; value: Buffer | null },
>(batch: { topic: string; partition: number; messages: readonly M[] }): ConsumedBatch {
  const { topic, partition } = batch
  const records = batch.messages.map((message): ConsumedRecord => ({
    topic,
    partition,
    offset: BigInt(message.offset),
    key: message.key,
    value: message.value,
    raw: message,
  }))
  return { topic, partition, records }
}

/** What committing past `last` means: its partition, at the offset after it. */
export function offsetAfter(last: ConsumedRecord): { topic: string; partition: number; offset: string } {
  return { topic: last.topic, partition: last.partition, offset: (last.offset + 1n).toString() }
}
