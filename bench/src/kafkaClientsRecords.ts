import { partitionKeyFor } from '@audit-pipeline/event-model'

/**
 * The records every client sends and forwards in the `kafka-clients` section: pre-encoded values
 * of the pipeline's event size, keyed like the producer SDK keys audit events (one of `objects`
 * tickets of one tenant). The first 4 bytes of each value are its sequence number, so whoever
 * reads a topic back can tell each record apart (exactly once) and check each key's order.
 * Pure and deterministic: the parent process (which fills the normalizer path's input and checks
 * outputs) and the child processes (which produce) build the same records.
 */

/** The pipeline's Avro audit event (the normalizer bench's input) is about this size. */
export const eventValueBytes = 530

/** Tickets the records are spread over, as in the other sections. */
export const benchObjects = 10_000

export type BenchRecord = { key: Buffer; value: Buffer }

/** The key of record `sequence`: its ticket's partition key. */
export function benchKey(sequence: number, objects = benchObjects): Buffer {
  return Buffer.from(
    partitionKeyFor({
      tenant: 'bench',
      object: { type: 'ticket', id: `T-${sequence % objects}`, id2: null, id3: null, label: null },
    }),
  )
}

/** Records `from` to `to` (exclusive) of a run, each value `valueBytes` long. */
export function benchRecords(
  from: number,
  to: number,
  options: { valueBytes?: number; objects?: number } = {},
): BenchRecord[] {
  const { valueBytes = eventValueBytes, objects = benchObjects } = options
  if (valueBytes < 4)
    throw new Error(`a bench value holds its 4-byte sequence number; got ${valueBytes} bytes`)
  const filler = fillerBytes(valueBytes)
  const records: BenchRecord[] = []
  for (let sequence = from; sequence < to; sequence++) {
    const value = Buffer.allocUnsafe(valueBytes)
    filler.copy(value)
    value.writeUInt32BE(sequence, 0)
    records.push({ key: benchKey(sequence, objects), value })
  }
  return records
}

/** The sequence number a bench value carries; undefined for anything else. */
export function sequenceOf(value: Buffer | null | undefined): number | undefined {
  return value && value.length >= 4 ? value.readUInt32BE(0) : undefined
}

/**
 * Groups records into sends of at most `maxBytes` (key, value and about 32 bytes of record
 * overhead each), as the normalizer's flushes stay under the broker's 1 MiB batch limit.
 */
export function sendChunks<T extends { key: Buffer | null; value: Buffer | null }>(
  records: readonly T[],
  maxBytes: number,
): T[][] {
  const chunks: T[][] = []
  let chunk: T[] = []
  let bytes = 0
  for (const record of records) {
    const size = (record.key?.length ?? 0) + (record.value?.length ?? 0) + 32
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk)
      chunk = []
      bytes = 0
    }
    chunk.push(record)
    bytes += size
  }
  if (chunk.length > 0) chunks.push(chunk)
  return chunks
}

/** Bytes that do not compress to nothing, the same for every record and run (a fixed LCG). */
function fillerBytes(length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length)
  let state = 0x2545f491
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    bytes[i] = state >>> 24
  }
  return bytes
}
