import { logLevel, type Kafka } from 'kafkajs'
import {
  deadLetterOpener,
  DeadLetterToolError,
  hasFilter,
  isSealed,
  listDeadLetters,
  replayDeadLetters,
  replayGroupIdFor,
  type DeadLetter,
} from '@audit-pipeline/dead-letter'
import type { KeyStore } from '@audit-pipeline/field-encryption'
import { createKafka } from '@audit-pipeline/kafka'
import type { KafkaEndpoint } from './dlqEndpoints.js'
import type { DlqListOptions, DlqReplayOptions } from './dlqOptions.js'
import {
  deadLetterJson,
  deadLetterTable,
  listingSummary,
  replaySummary,
  type ListedDeadLetter,
} from './dlqOutput.js'
import { openFieldKeys } from './fieldKeys.js'

export type DlqIo = {
  out: (line: string) => void
  err: (line: string) => void
  /** The terminal's width, for the table; 160 when not a terminal. */
  widthChars?: number
}

/**
 * `audit-pipeline dlq list`: the dead letters as a table, or NDJSON with `--json`; sealed ones
 * opened when the key store is given (FIELD_KEYS_*, --keys-dir and --kek-file, or npm start's).
 */
export async function dlqListCommand(
  options: DlqListOptions,
  endpoint: KafkaEndpoint,
  io: DlqIo,
): Promise<number> {
  // Before Kafka: a key store named wrongly is a settings error, found before anything is read.
  const keys = options.fieldKeys && (await openFieldKeys(options.fieldKeys))
  const found = await listDeadLetters({
    kafka: kafkaFor(endpoint),
    topic: options.topic,
    filter: options.filter,
    limit: options.limit,
  })
  const listing = { ...found, deadLetters: await opened(found.deadLetters, keys) }
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

/**
 * `audit-pipeline dlq replay`: re-sends the selected dead letters, reports per target topic. Sealed
 * ones are sent opened; those whose key was erased are refused, each named.
 */
export async function dlqReplayCommand(
  options: DlqReplayOptions,
  endpoint: KafkaEndpoint,
  io: DlqIo,
): Promise<number> {
  const keys = options.fieldKeys && (await openFieldKeys(options.fieldKeys))
  let result
  try {
    result = await replayDeadLetters({
      kafka: kafkaFor(endpoint),
      topic: options.topic,
      filter: options.filter,
      ...(options.to !== undefined && { to: options.to }),
      dryRun: options.dryRun,
      fromStart: options.fromStart,
      ...(keys && { keys }),
    })
  } catch (error) {
    if (error instanceof DeadLetterToolError && error.code === 'KEYS_MISSING') {
      throw new Error(
        `${error.message}: set FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE (or --keys-dir and --kek-file) to the normalizer's, or run it beside npm start`,
        { cause: error },
      )
    }
    throw error
  }
  for (const line of replaySummary(result, options.topic, replayGroupIdFor(options.topic))) io.out(line)
  return 0
}

/** The dead letters, sealed ones with what opening them gave (`not-opened` without a key store). */
async function opened(deadLetters: DeadLetter[], keys: KeyStore | undefined): Promise<ListedDeadLetter[]> {
  const open = keys && deadLetterOpener(keys)
  return Promise.all(
    deadLetters.map(async (dead): Promise<ListedDeadLetter> => {
      if (!isSealed(dead)) return dead
      return {
        ...dead,
        opening: open ? await open(dead) : { state: 'not-opened', keyId: dead.sealed.keyId },
      }
    }),
  )
}

function kafkaFor(endpoint: KafkaEndpoint): Kafka {
  // kafkajs logs retries it recovers from as errors; what fails reaches us as an exception.
  return createKafka(
    { ...endpoint.settings.kafka, brokers: endpoint.brokers },
    { logLevel: logLevel.NOTHING },
  )
}
