/**
 * The correctness check of each `kafka-clients` run, over what a reference reader (kafkajs) read
 * back from the run's output topic and the group's committed offsets: every record exactly once,
 * each key on one partition and in the order it was sent, committed offsets equal to the input's
 * end offsets, and every record written by an idempotent producer (a producer id and sequence
 * numbers without gaps, what the broker deduplicates retries on). A run failing it shows no
 * throughput. Pure.
 */

/** One record read back. */
export type ReadRecord = {
  partition: number
  offset: bigint
  key: string
  /** The bench sequence number in its value (kafkaClientsRecords.ts); undefined: not a bench record. */
  sequence: number | undefined
  /** From the record batch: -1 when written without idempotence. */
  producerId: string
  producerEpoch: number
  /** The producer's sequence number of this record (batch's first sequence + offset delta), -1 without idempotence. */
  producerSequence: number
}

export type DeliveryCheck = {
  passed: boolean
  /** One line per kind of problem, with a few examples. */
  problems: string[]
  /** What was checked, for the report. */
  checked: string
}

export function checkDelivery(options: {
  /** Records 0 to expected - 1 were sent. */
  expected: number
  /** Records whose send the client reported as failed: they may be missing (never duplicated). */
  rejected?: ReadonlySet<number>
  records: readonly ReadRecord[]
  /** The group's committed offsets and the input's end offsets, by partition (normalizer path). */
  offsets?: { committed: ReadonlyMap<number, bigint>; ends: ReadonlyMap<number, bigint> }
}): DeliveryCheck {
  const { expected } = options
  const problems: string[] = []
  const records = [...options.records].sort((a, b) =>
    a.partition !== b.partition
      ? a.partition - b.partition
      : a.offset < b.offset
        ? -1
        : a.offset > b.offset
          ? 1
          : 0,
  )

  const seen = new Uint8Array(expected)
  const duplicates: number[] = []
  /** Producer id and epoch of each copy of a duplicated record: a duplicate under a new producer id is one the broker could not drop. */
  const duplicateWriters = new Set<string>()
  const firstWriter = new Map<number, string>()
  const foreign: string[] = []
  for (const record of records) {
    const { sequence } = record
    if (sequence === undefined || sequence >= expected) {
      foreign.push(`${record.partition}@${record.offset}`)
      continue
    }
    const writer = `${record.producerId}/${record.producerEpoch}`
    if (seen[sequence] === 1) {
      duplicates.push(sequence)
      duplicateWriters.add(firstWriter.get(sequence) ?? '?')
      duplicateWriters.add(writer)
    } else firstWriter.set(sequence, writer)
    seen[sequence] = 1
  }
  const missing: number[] = []
  let rejectedMissing = 0
  for (let sequence = 0; sequence < expected; sequence++) {
    if (seen[sequence] === 1) continue
    if (options.rejected?.has(sequence)) rejectedMissing++
    else missing.push(sequence)
  }
  if (missing.length > 0) problems.push(`${missing.length} missing (${examples(missing)})`)
  if (duplicates.length > 0) {
    problems.push(
      `${duplicates.length} duplicated (${examples(duplicates)}); the copies were written by producer id/epoch ` +
        [...duplicateWriters].sort().join(', '),
    )
  }
  if (foreign.length > 0) problems.push(`${foreign.length} records that were not sent (${examples(foreign)})`)

  // Per key: one partition, sequence numbers rising in offset order.
  const lastByKey = new Map<string, { partition: number; sequence: number }>()
  const split = new Set<string>()
  const reordered: string[] = []
  for (const record of records) {
    if (record.sequence === undefined) continue
    const last = lastByKey.get(record.key)
    if (last && last.partition !== record.partition) split.add(record.key)
    else if (last && record.sequence < last.sequence) {
      reordered.push(`${record.key}: ${last.sequence} before ${record.sequence}`)
    }
    lastByKey.set(record.key, { partition: record.partition, sequence: record.sequence })
  }
  if (split.size > 0) problems.push(`${split.size} keys on more than one partition (${examples([...split])})`)
  if (reordered.length > 0)
    problems.push(`${reordered.length} records out of their key's order (${examples(reordered)})`)

  // Idempotence on the wire: a producer id on every record, its sequences without gap per partition.
  const withoutProducerId = records.filter(
    (record) => record.producerId === '-1' || record.producerSequence < 0,
  )
  if (withoutProducerId.length > 0) {
    problems.push(
      `${withoutProducerId.length} records written without idempotence (no producer id; ` +
        `${examples(withoutProducerId.map((r) => `${r.partition}@${r.offset}`))})`,
    )
  }
  const nextSequence = new Map<string, number>()
  const gaps: string[] = []
  for (const record of records) {
    if (record.producerSequence < 0) continue
    const stream = `${record.partition}/${record.producerId}/${record.producerEpoch}`
    const next = nextSequence.get(stream)
    if (next !== undefined && record.producerSequence !== next) {
      gaps.push(
        `partition ${record.partition} at ${record.offset}: sequence ${record.producerSequence}, expected ${next}`,
      )
    }
    nextSequence.set(stream, record.producerSequence + 1)
  }
  if (gaps.length > 0)
    problems.push(`${gaps.length} breaks in a producer's sequence numbers (${examples(gaps)})`)
  const producerIds = new Set(records.map((record) => record.producerId))

  if (options.offsets) {
    const { committed, ends } = options.offsets
    const wrong: string[] = []
    for (const [partition, end] of ends) {
      const offset = committed.get(partition)
      if (offset !== end) wrong.push(`partition ${partition}: committed ${offset ?? 'nothing'}, end ${end}`)
    }
    if (wrong.length > 0) problems.push(`committed offsets are not the end offsets (${examples(wrong)})`)
  }

  const rejected = options.rejected?.size ?? 0
  const checked = [
    `${records.length.toLocaleString('en-US')} read of ${expected.toLocaleString('en-US')} sent` +
      (rejected > 0 ? ` (${rejected} in failed sends, ${rejectedMissing} of them not written)` : ''),
    `${lastByKey.size.toLocaleString('en-US')} keys each on one partition, in order`,
    `written by ${producerIds.size} idempotent producer id${producerIds.size === 1 ? '' : 's'}, sequences without gaps`,
    ...(options.offsets ? ['committed offsets = end offsets'] : []),
  ].join('; ')
  return { passed: problems.length === 0, problems, checked }
}

function examples(values: readonly (string | number)[], count = 3): string {
  const shown = values.slice(0, count).join(', ')
  return values.length > count ? `${shown}, …` : shown
}
