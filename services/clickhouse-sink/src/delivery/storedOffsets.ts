import type { Storage } from '@audit-pipeline/storage'

/**
 * The last offset of a partition whose row is in ClickHouse, or undefined when none is. Asked the
 * first time a partition is read in a group generation: rows inserted just before a crash, whose
 * offsets were never committed, are then skipped instead of stored again.
 */
export async function lastStoredOffset(
  storage: Storage,
  table: string,
  topic: string,
  partition: number,
): Promise<bigint | undefined> {
  const result = await storage.client.query({
    query: `SELECT toString(maxOrNull(kafka_offset)) AS last FROM ${table} WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}`,
    query_params: { topic, partition },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ last: string | null }>()
  return row?.last == null ? undefined : BigInt(row.last)
}
