/**
 * Whether a consumer group's members, as the broker describes them, share a topic's partitions
 * the way a group must: each member some, none twice, all of them. Pure: the rebalance check
 * (kafkaClientsGuarantees.ts) polls the broker and asks this.
 */
export function assignmentSettled(
  members: readonly (readonly number[])[],
  options: { partitions: number; members: number },
): { settled: boolean; shape: string } {
  const shape = members.map((partitions) => partitions.length).join('+') || 'no member'
  if (members.length !== options.members) return { settled: false, shape }
  const seen = new Set<number>()
  for (const partitions of members) {
    if (partitions.length === 0) return { settled: false, shape }
    for (const partition of partitions) {
      if (seen.has(partition)) return { settled: false, shape }
      seen.add(partition)
    }
  }
  const all = Array.from({ length: options.partitions }, (_, partition) => partition).every((p) =>
    seen.has(p),
  )
  return { settled: all && seen.size === options.partitions, shape }
}
