import kafkajs, { type Admin } from 'kafkajs'

// kafkajs is CommonJS and spreads its enums into its exports, which Node's named imports miss.
const { ConfigResourceTypes } = kafkajs

/**
 * What bounds how long the bytes of records deleted from an input topic stay on the brokers'
 * disks. DeleteRecords moves the topic's start at once; the bytes go with their segment file,
 * which Kafka deletes only once a later segment begins at or below that start (the active
 * segment never is) — at the next retention check, then after the file delete delay. A segment
 * rolls on the first record appended `segment.ms` after it began (or at `segment.bytes`); with
 * nothing appended, retention (`retention.ms`) removes it instead. All in milliseconds.
 */
export type InputResidency = {
  topic: string
  segmentMs: number
  retentionMs: number
  fileDeleteDelayMs: number
  /** The brokers' `log.retention.check.interval.ms`; undefined when the brokers would not say. */
  retentionCheckMs: number | undefined
}

const topicSettings = ['segment.ms', 'retention.ms', 'file.delete.delay.ms'] as const
const brokerSetting = 'log.retention.check.interval.ms'

/** The settings of `topics` that bound it, as the brokers report them (defaults included). */
export async function inputResidency(admin: Admin, topics: readonly string[]): Promise<InputResidency[]> {
  if (topics.length === 0) return []
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configNames: [...topicSettings],
    })),
  })
  const retentionCheckMs = await brokerRetentionCheckMs(admin)
  return topics.map((topic) => {
    const entries = resources.find((resource) => resource.resourceName === topic)?.configEntries ?? []
    const value = (name: string) => {
      const entry = entries.find((candidate) => candidate.configName === name)
      const ms = Number(entry?.configValue)
      if (entry === undefined || !Number.isFinite(ms)) {
        throw new Error(`the brokers did not report ${name} of topic ${topic}`)
      }
      return ms
    }
    return {
      topic,
      segmentMs: value('segment.ms'),
      retentionMs: value('retention.ms'),
      fileDeleteDelayMs: value('file.delete.delay.ms'),
      retentionCheckMs,
    }
  })
}

/** A read-only static broker setting; brokers of one cluster are configured alike. */
async function brokerRetentionCheckMs(admin: Admin): Promise<number | undefined> {
  const { brokers } = await admin.describeCluster()
  const broker = brokers[0]
  if (broker === undefined) return undefined
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.BROKER, name: String(broker.nodeId), configNames: [brokerSetting] },
      ],
    })
    const ms = Number(
      resources[0]?.configEntries.find((entry) => entry.configName === brokerSetting)?.configValue,
    )
    return Number.isFinite(ms) ? ms : undefined
  } catch {
    // A principal allowed DeleteRecords need not be allowed DescribeConfigs on the cluster.
    return undefined
  }
}

/** How long, at most, the deleted records' bytes stay on disk, said for people. */
export function residencyLine(residency: InputResidency): string {
  const check =
    residency.retentionCheckMs === undefined
      ? 'the brokers’ log.retention.check.interval.ms (not reported)'
      : `log.retention.check.interval.ms (${duration(residency.retentionCheckMs)})`
  return (
    `${residency.topic}: the removed records' bytes leave the brokers' disks with their segment: ` +
    `it rolls at the first record appended segment.ms (${duration(residency.segmentMs)}) after it began ` +
    `(else retention.ms, ${residency.retentionMs < 0 ? 'unlimited' : duration(residency.retentionMs)}, removes it), ` +
    `then is deleted within ${check} + file.delete.delay.ms (${duration(residency.fileDeleteDelayMs)})`
  )
}

function duration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000} d`
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000} h`
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000} min`
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000} s`
  return `${ms} ms`
}
