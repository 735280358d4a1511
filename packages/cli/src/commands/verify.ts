import type { RetentionPolicy } from '@audit-pipeline/clickhouse-schema'
import { parsePublicKeys, type PublicKeySet, type SignedCheckpoint } from '@audit-pipeline/integrity'
import type { Storage, StorageConfig } from '@audit-pipeline/storage'
import { verifyTrail, type TrailReport, type VerifyProgress } from '@audit-pipeline/verification'
import type { QueryIo } from './query.js'
import { tableLines } from './queryOutput.js'
import { openTrailStorage, type TrailStorage } from './trailStorage.js'
import type { VerifyOptions } from './verifyOptions.js'
import { findingsListing, verifySummaryLines } from './verifyOutput.js'
import type { ProgressDisplay } from './verifyProgress.js'

/** What `verify` does I/O with: given by main.ts, replaced in tests. */
export type VerifyDeps = {
  openStorage: (config: StorageConfig) => Promise<Storage>
  readFile(path: string): string
  /** Every checkpoint in the topic (readCheckpointTopic with Kafka from the environment). */
  readCheckpoints(topic: string): Promise<SignedCheckpoint[]>
  nowMs(): number
  progress?: ProgressDisplay
  /** Where the compiled verification worker is (tests); default: beside the verification package. */
  workerScript?: URL
}

/**
 * `audit-pipeline verify`: reads the trail back and checks it (packages/verification). Returns 0
 * when it is intact and 1 when there are findings; throws (exit 2, the message naming the
 * problem) when verification cannot run: keys unreadable, the checkpoints topic unreadable,
 * ClickHouse unreachable or its data folder held by a running process.
 */
export async function verifyCommand(
  options: VerifyOptions,
  target: TrailStorage,
  retention: RetentionPolicy,
  deps: VerifyDeps,
  io: QueryIo,
): Promise<number> {
  const keys = readKeys(options.publicKeys, deps)
  let external: SignedCheckpoint[] | undefined
  if (options.checkpointTopic.topic !== null) {
    const { topic } = options.checkpointTopic
    try {
      external = await deps.readCheckpoints(topic)
    } catch (error) {
      throw new Error(`could not read the checkpoints topic ${topic}: ${messageOf(error)}`, { cause: error })
    }
  }
  const { progress } = deps
  const storage = await openTrailStorage(deps.openStorage, target)
  let report: TrailReport
  try {
    report = await verifyTrail({
      storage,
      database: target.database,
      ...(options.tenant !== undefined && { tenant: options.tenant }),
      ...(options.since !== undefined && { since: options.since }),
      ...(options.until !== undefined && { until: options.until }),
      keys,
      retention,
      nowMs: deps.nowMs(),
      checkpointGraceMs: options.checkpointGraceMs,
      ...(external !== undefined && { externalCheckpoints: external }),
      ...(progress !== undefined && { onProgress: (update: VerifyProgress) => progress.update(update) }),
      ...(options.threads !== undefined && { threads: options.threads }),
      ...(deps.workerScript !== undefined && { workerScript: deps.workerScript }),
    })
  } catch (error) {
    throw new Error(
      `could not verify the trail in ${target.origin}, database ${target.database}: ${messageOf(error)}`,
      {
        cause: error,
      },
    )
  } finally {
    progress?.stop()
    await storage.close()
  }
  if (options.json) {
    io.out(JSON.stringify(report, null, 2))
  } else {
    for (const line of verifySummaryLines(report, options.checkpointTopic)) io.out(line)
    const listing = findingsListing(report)
    // The detail is the finding: not cut to the terminal's width unless there is one.
    if (listing.rows.length > 0)
      for (const line of tableLines(listing, io.widthChars ?? 1_000_000)) io.out(line)
  }
  return report.intact ? 0 : 1
}

function readKeys(publicKeys: VerifyOptions['publicKeys'], deps: VerifyDeps): PublicKeySet {
  let text: string
  try {
    text = deps.readFile(publicKeys.path)
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
    throw new Error(
      missing
        ? `the public keys file ${publicKeys.path} (${publicKeys.origin}) does not exist`
        : `the public keys file ${publicKeys.path} cannot be read: ${messageOf(error)}`,
      { cause: error },
    )
  }
  return parsePublicKeys(text, publicKeys.path)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
