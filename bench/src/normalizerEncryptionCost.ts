import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Admin } from 'kafkajs'
import { writeKeyEncryptionKeyFile } from '@audit-pipeline/field-encryption'
import { normalizerRun, type NormalizerRun } from './normalizerRun.js'

/** The bench events' fields treated as sensitive: both of their changes, and their snapshots' values. */
const sensitiveFields = ['priority', 'solution']

export type EncryptionCost = {
  sealed: NormalizerRun[]
  dropped: NormalizerRun[]
}

/**
 * The normalizer with a tenant policy that seals the events' sensitive values (field-encryption,
 * a local key store: one data key per actor) against the same policy dropping them, on the same
 * input, in the order sealed, dropped, dropped, sealed so that neither side gains from going later.
 */
export async function normalizerEncryptionRuns(options: {
  brokers: string[]
  registryUrl: string
  admin: Admin
  overrides: Record<string, string>
  input: string
  ends: Map<number, bigint>
  topic: (what: string) => string
}): Promise<EncryptionCost> {
  const dir = mkdtempSync(join(tmpdir(), 'audit-bench-encryption-'))
  try {
    const kekFile = join(dir, 'kek')
    await writeKeyEncryptionKeyFile(kekFile)
    const policy = (method: string) => {
      const file = join(dir, `${method}.yaml`)
      writeFileSync(
        file,
        `default: { method: ${method}, sensitive_fields: [${sensitiveFields.join(', ')}] }\n`,
      )
      return file
    }
    const settings = {
      encrypt: {
        NORMALIZER_REDACTION_FILE: policy('encrypt'),
        FIELD_KEYS_DIR: join(dir, 'keys'),
        FIELD_KEYS_KEK_FILE: kekFile,
      },
      drop: { NORMALIZER_REDACTION_FILE: policy('drop') },
    }
    const cost: EncryptionCost = { sealed: [], dropped: [] }
    for (const [i, method] of (['encrypt', 'drop', 'drop', 'encrypt'] as const).entries()) {
      const run = await normalizerRun({
        brokers: options.brokers,
        registryUrl: options.registryUrl,
        admin: options.admin,
        input: options.input,
        ends: options.ends,
        outputs: [options.topic(`${method}_out_${i}`)],
        deadLetterTopic: options.topic(`${method}_dlq_${i}`),
        groupId: options.topic(`normalizer_${method}_${i}`),
        overrides: { ...options.overrides, ...settings[method] },
      })
      ;(method === 'encrypt' ? cost.sealed : cost.dropped).push(run)
    }
    return cost
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The output topics normalizerEncryptionRuns writes, to be made before it runs. */
export function encryptionTopics(topic: (what: string) => string): string[] {
  return (['encrypt', 'drop', 'drop', 'encrypt'] as const).flatMap((method, i) => [
    topic(`${method}_out_${i}`),
    topic(`${method}_dlq_${i}`),
  ])
}
