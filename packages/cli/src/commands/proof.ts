import type { Storage, StorageConfig } from '@audit-pipeline/storage'
import { buildProof, VerificationError } from '@audit-pipeline/verification'
import type { QueryIo } from './query.js'
import { openTrailStorage, type TrailStorage } from './trailStorage.js'

export type ProofOptions = {
  eventId: string
  tenant?: string
  /** Write the proof here instead of printing it. */
  out?: string
  /** SINK_CHECKPOINT_INTERVAL_MS: when a checkpoint not made yet is due. */
  checkpointIntervalMs: number
}

export type ProofDeps = {
  openStorage: (config: StorageConfig) => Promise<Storage>
  writeFile(path: string, text: string): void
}

/** How to check a proof without the pipeline, as `proof --help` and its output say. */
export const offlineVerification = 'node packages/integrity/standalone/verify-proof.mjs PROOF.json KEYS.json'

/**
 * `audit-pipeline proof <event_id>`: the event's inclusion proof, printed or written to --out.
 * Exit 0 with the proof; 1 when there is none to give (no such event, not covered by a checkpoint
 * yet, the stored event or its entries changed), with the message saying which; errors that
 * stop it from asking (an id of two tenants without --tenant, ClickHouse unreachable) are thrown:
 * exit 2.
 */
export async function proofCommand(
  options: ProofOptions,
  target: TrailStorage,
  deps: ProofDeps,
  io: QueryIo,
): Promise<number> {
  const storage = await openTrailStorage(deps.openStorage, target)
  let text: string
  let summary: string
  try {
    const document = await buildProof({
      storage,
      database: target.database,
      eventId: options.eventId,
      ...(options.tenant !== undefined && { tenant: options.tenant }),
      checkpointIntervalMs: options.checkpointIntervalMs,
    })
    text = `${JSON.stringify(document, null, 2)}\n`
    const { entry, checkpoint } = document
    summary = `event ${entry.event_id} is entry ${entry.seq} of ${entry.tenant} ${entry.chain}, covered by checkpoint ${checkpoint.checkpoint_seq} signed by ${checkpoint.key_id}`
  } catch (error) {
    if (
      error instanceof VerificationError &&
      error.code !== 'EVENT_AMBIGUOUS' &&
      error.code !== 'STORAGE_UNREADABLE'
    ) {
      io.err(`audit-pipeline: no proof: ${error.message}`)
      return 1
    }
    throw error
  } finally {
    await storage.close()
  }
  if (options.out === undefined) {
    io.out(text.trimEnd())
    return 0
  }
  deps.writeFile(options.out, text)
  io.out(`Wrote the proof to ${options.out}: ${summary}.`)
  io.out(
    `Anyone can check it with the published public keys: ${offlineVerification.replace('PROOF.json', options.out)}`,
  )
  return 0
}
