import type {
  ClientConsumer,
  ClientProducer,
  ConsumedBatch,
  KafkaClientAdapter,
  OutRecord,
} from './kafkaClientsAdapter.js'
import { benchRecords, sendChunks } from './kafkaClientsRecords.js'

/** One measured run in a client's process: wall time and this process's CPU time (all its threads: librdkafka's too). */
export type PathTimes = {
  seconds: number
  cpuSeconds: number
  /** Normalizer path: from starting the consumer to its first record (connect, group join, first fetch). */
  startupSeconds?: number
}

/** The broker refuses a record batch over 1 MiB; the normalizer's flushes stay under this, and so do these sends. */
export const maxRequestBytes = 768 * 1024

/**
 * The producer path: `events` pre-encoded records with keys, sent in sends of up to
 * maxRequestBytes with `window` sends awaiting their acknowledgement at most, through the
 * client's idempotent producer (acks=all). Timed from the first send to the last
 * acknowledgement, after a warm-up of `warmupEvents` to another topic (connection, producer id,
 * JIT) with the same producer.
 */
export async function producerPath(
  adapter: KafkaClientAdapter,
  job: { topic: string; warmupTopic: string; events: number; warmupEvents: number; window: number },
): Promise<PathTimes> {
  const producer = await adapter.producer({ clientId: 'bench-kafka-clients-producer' })
  try {
    await sendAll(
      producer,
      job.warmupTopic,
      sendChunks(benchRecords(0, job.warmupEvents), maxRequestBytes),
      job.window,
    )
    const chunks = sendChunks(benchRecords(0, job.events), maxRequestBytes)
    const cpu = process.cpuUsage()
    const started = performance.now()
    await sendAll(producer, job.topic, chunks, job.window)
    const seconds = (performance.now() - started) / 1000
    const { user, system } = process.cpuUsage(cpu)
    return { seconds, cpuSeconds: (user + system) / 1e6 }
  } finally {
    await producer.close()
  }
}

/** Sends `chunks` in order, `window` at most awaiting acknowledgement; the first failure fails it. */
export async function sendAll(
  producer: ClientProducer,
  topic: string,
  chunks: readonly (readonly OutRecord[])[],
  window: number,
): Promise<void> {
  const inFlight = new Set<Promise<void>>()
  let failure: { error: unknown } | undefined
  for (const chunk of chunks) {
    if (failure) break
    const sending: Promise<void> = producer
      .send(topic, chunk)
      .catch((error: unknown) => {
        failure ??= { error }
      })
      .finally(() => inFlight.delete(sending))
    inFlight.add(sending)
    if (inFlight.size >= window) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  if (failure) throw failure.error
}

export type ForwardJob = {
  input: string
  output: string
  groupId: string
  /** The input's end offsets by partition: the run ends when the group has committed them. */
  ends: ReadonlyMap<number, bigint>
  /** Partitions handled at once (the normalizer's NORMALIZER_PARTITIONS_CONCURRENTLY default is 6). */
  concurrency: number
  /** Fails the run when no offset is committed for this long. */
  stallMs: number
}

/**
 * The normalizer path: a consumer group member reads `input` and, per batch of a partition,
 * sends the records' bytes unchanged to `output` through the idempotent producer, waits for the
 * acknowledgement, then commits the offset after the batch: what the normalizer does, without
 * the decoding. Timed from the first record received to the last commit acknowledged, after a
 * warm-up run on `warmup` with the same producer.
 */
export async function forwardPath(
  adapter: KafkaClientAdapter,
  job: ForwardJob & { warmup: ForwardJob },
): Promise<PathTimes> {
  const producer = await adapter.producer({ clientId: 'bench-kafka-clients-forward' })
  try {
    await forwardOnce(adapter, producer, job.warmup)
    return await forwardOnce(adapter, producer, job)
  } finally {
    await producer.close()
  }
}

async function forwardOnce(
  adapter: KafkaClientAdapter,
  producer: ClientProducer,
  job: ForwardJob,
): Promise<PathTimes> {
  const committed = new Map<number, bigint>()
  const allCommitted = () =>
    [...job.ends].every(([partition, end]) => (committed.get(partition) ?? 0n) >= end)
  let failure: string | undefined
  let first: { at: number; cpu: NodeJS.CpuUsage } | undefined
  let finished: { at: number; cpu: NodeJS.CpuUsage } | undefined
  let progressAt = performance.now()
  let wake: (() => void) | undefined
  const fail = (message: string) => {
    failure ??= message
    wake?.()
  }
  const onBatch = async (batch: ConsumedBatch, consumer: ClientConsumer) => {
    first ??= { at: performance.now(), cpu: process.cpuUsage() }
    try {
      for (const chunk of sendChunks(batch.records, maxRequestBytes)) await producer.send(job.output, chunk)
      const last = batch.records.at(-1)
      if (!last) return
      await consumer.commit(last)
      const next = last.offset + 1n
      if (next > (committed.get(batch.partition) ?? 0n)) committed.set(batch.partition, next)
      progressAt = performance.now()
      if (!finished && allCommitted()) {
        finished = { at: performance.now(), cpu: process.cpuUsage(first.cpu) }
        wake?.()
      }
    } catch (error) {
      fail(`partition ${batch.partition}: ${error instanceof Error ? error.message : String(error)}`)
      throw error
    }
  }
  const startedAt = performance.now()
  const consumer = await adapter.consumer({
    groupId: job.groupId,
    topic: job.input,
    concurrency: job.concurrency,
    onBatch,
    onFailure: fail,
  })
  try {
    // Woken by the last commit or a failure; a clock for the stall check besides.
    while (!finished) {
      if (failure) throw new Error(`${adapter.name} forwarding ${job.input} failed: ${failure}`)
      if (performance.now() - progressAt > job.stallMs) {
        throw new Error(`${adapter.name} committed nothing on ${job.input} for ${job.stallMs / 1000} s`)
      }
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 250).unref()
      })
    }
  } finally {
    await consumer.close()
  }
  const start = first as { at: number }
  const { user, system } = finished.cpu
  return {
    seconds: (finished.at - start.at) / 1000,
    cpuSeconds: (user + system) / 1e6,
    startupSeconds: (start.at - startedAt) / 1000,
  }
}
