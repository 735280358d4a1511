import type { AuditEventCodec } from '@audit-pipeline/codec'
import { eventNestingProblem, type AuditEvent } from '@audit-pipeline/event-model'
import {
  encodedEventDigest,
  parseRoutes,
  planRecord,
  readRecord,
  type NormalizerConfig,
  type RecordReading,
} from '@audit-pipeline/normalizer'
import { benchRoutes } from './normalizerRun.js'
import type { StageCost } from './stageCosts.js'

/**
 * CPU time per message of the normalizer's own steps, on this thread without Kafka, over Avro
 * messages as they sit in the input topic: what is left for the Kafka client (fetch decoding,
 * produce encoding, commits) out of the time one event may take at the target rate.
 */
export async function normalizerStageCosts(options: {
  messages: readonly Buffer[]
  codec: AuditEventCodec
  config: NormalizerConfig
}): Promise<StageCost[]> {
  const { messages, codec, config } = options
  const reader: Parameters<typeof readRecord>[1] = {
    decodeAvro: (value) => codec.decode(value),
    adapters: config.adapters,
    policy: config.policy,
    redaction: config.redaction,
    maxEventBytes: config.maxEventBytes,
  }
  const timestampMs = Date.now()
  const readings: RecordReading[] = []
  const plan = (topics: string[]) => {
    const context = {
      routes: parseRoutes(benchRoutes(topics), { file: 'bench-routes.yaml' }),
      encode: (event: Parameters<AuditEventCodec['encode']>[0]) => codec.encode(event),
      maxEventBytes: config.maxEventBytes,
      digest: encodedEventDigest(),
      digestSent: () => undefined,
    }
    return (i: number) => planRecord(readings[i]!, context)
  }
  const time = async (stage: string, run: (i: number) => unknown): Promise<StageCost> => {
    const started = process.hrtime.bigint()
    for (let i = 0; i < messages.length; i++) await run(i)
    return { stage, microsPerEvent: Number(process.hrtime.bigint() - started) / 1e3 / messages.length }
  }
  const read = async (i: number) => {
    readings[i] = await readRecord({ value: messages[i]!, headers: {}, timestampMs }, reader)
  }
  const decoded: AuditEvent[] = []
  const decode = await time('decode: Avro to event (codec.decode)', async (i) => {
    decoded[i] = await codec.decode(messages[i]!)
  })
  // Part of readRecord: every JSON text of the event counted for nesting before it is walked.
  const nesting = await time('  of which the nesting check (eventNestingProblem)', (i) =>
    eventNestingProblem(decoded[i]!),
  )
  const readCost = await time('readRecord: decode + normalize + redact', read)
  const encoded = decoded.map((event) => codec.encode(event))
  const digestOfEncoded = encodedEventDigest()
  const refused = readings.find((reading) => reading.kind !== 'events')
  if (refused) throw new Error(`the bench's input should normalize, got ${JSON.stringify(refused)}`)
  return [
    decode,
    readCost,
    nesting,
    await time('planRecord, one topic: route + encode + key', plan(['out_a'])),
    await time('planRecord, two topics (fan-out)', plan(['out_a', 'out_b'])),
    // Not on this thread in the service: a flush's digests are the worker thread's, while it is sent.
    await time('content digest of the encoded event (the digest worker thread)', (i) =>
      digestOfEncoded(encoded[i]!),
    ),
  ]
}
