import { logLevel, type Kafka } from 'kafkajs'
import { hasFilter, listDeadLetters, replayDeadLetters, replayGroupIdFor } from '@audit-pipeline/dead-letter'
import { createKafka } from '@audit-pipeline/kafka'
import type { KafkaEndpoint } from './dlqEndpoints.js'
import type { DlqListOptions, DlqReplayOptions } from './dlqOptions.js'
import { deadLetterJson, deadLetterTable, listingSummary, replaySummary } from './dlqOutput.js'

export type DlqIo = {
  out: (line: string) => void
  err: (line: string) => void
  /** The terminal's width, for the table; 160 when not a terminal. */
  widthChars?: number
}

/** `audit-pipeline dlq list`: the dead letters as a table, or NDJSON with `--json`. */
export async function dlqListCommand(
  options: DlqListOptions,
  endpoint: KafkaEndpoint,
  io: DlqIo,
): Promise<number> {
  const listing = await listDeadLetters({
    kafka: kafkaFor(endpoint),
    topic: options.topic,
    filter: options.filter,
    limit: options.limit,
  })
  const summary = listingSummary(listing, options.topic, options.limit, hasFilter(options.filter))
  if (options.json) {
    for (const dead of listing.deadLetters) io.out(deadLetterJson(dead))
    // Standard output stays pure NDJSON for whatever reads it.
    for (const line of summary) io.err(line)
  } else {
    if (listing.deadLetters.length > 0) {
      for (const line of deadLetterTable(listing.deadLetters, io.widthChars ?? 160)) io.out(line)
    }
    for (const line of summary) io.out(line)
  }
  return 0
}

/** `audit-pipeline dlq replay`: re-sends the selected dead letters, reports per target topic. */
export async function dlqReplayCommand(
  options: DlqReplayOptions,
  endpoint: KafkaEndpoint,
  io: DlqIo,
): Promise<number> {
  const result = await replayDeadLetters({
    kafka: kafkaFor(endpoint),
    topic: options.topic,
    filter: options.filter,
    ...(options.to !== undefined && { to: options.to }),
    dryRun: options.dryRun,
    fromStart: options.fromStart,
  })
  for (const line of replaySummary(result, options.topic, replayGroupIdFor(options.topic))) io.out(line)
  return 0
}

function kafkaFor(endpoint: KafkaEndpoint): Kafka {
  // kafkajs logs retries it recovers from as errors; what fails reaches us as an exception.
  return createKafka(
    { ...endpoint.settings.kafka, brokers: endpoint.brokers },
    { logLevel: logLevel.NOTHING },
  )
}
