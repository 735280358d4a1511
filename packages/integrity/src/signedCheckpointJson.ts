import { checkpointForm, type SignedCheckpoint } from './checkpoint.js'

const hashText = /^[0-9a-f]{64}$/

/**
 * The signed checkpoint JSON text holds (as the sink publishes it, and anchors receive it), with
 * exactly the checkpoint's fields; else what is wrong with it. Checks form and types, not the
 * signature (verifyCheckpointSignature, with the published keys). Pure.
 */
export function signedCheckpointOfJson(text: string): { checkpoint: SignedCheckpoint } | { problem: string } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return { problem: `not JSON (${error instanceof Error ? error.message : String(error)})` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: 'not a JSON object' }
  }
  const record = value as Record<string, unknown>
  const problems: string[] = []
  const field = (field: string, pattern?: RegExp): string => {
    const found = record[field]
    if (typeof found !== 'string' || (pattern !== undefined && !pattern.test(found))) {
      problems.push(`${field} is ${JSON.stringify(found) ?? 'missing'}`)
      return ''
    }
    return found
  }
  const count = (field: string): number => {
    const found = record[field]
    if (typeof found !== 'number' || !Number.isSafeInteger(found) || found < 0) {
      problems.push(`${field} is ${JSON.stringify(found) ?? 'missing'}, expected a non-negative integer`)
      return 0
    }
    return found
  }
  if (record['form'] !== checkpointForm) {
    return { problem: `form is ${JSON.stringify(record['form']) ?? 'missing'}` }
  }
  const checkpoint: SignedCheckpoint = {
    form: checkpointForm,
    tenant: field('tenant'),
    chain: field('chain'),
    checkpoint_seq: count('checkpoint_seq'),
    first_seq: count('first_seq'),
    last_seq: count('last_seq'),
    merkle_root: field('merkle_root', hashText),
    last_entry_hash: field('last_entry_hash', hashText),
    previous_checkpoint_hash: field('previous_checkpoint_hash', hashText),
    created_at: count('created_at'),
    key_id: field('key_id'),
    signature: field('signature'),
  }
  return problems.length === 0 ? { checkpoint } : { problem: problems[0] as string }
}
