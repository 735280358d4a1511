import type { ConfigProblem } from './configError.js'

/**
 * FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE come together: one without the other is a
 * half-configured key store, refused rather than left off (no encryption in the normalizer, no
 * sealed value opened in the query API). The problem naming the one missing, or undefined.
 */
export function fieldKeysPairProblem(
  directory: string | undefined,
  keyEncryptionKeyFile: string | undefined,
): ConfigProblem | undefined {
  if (Boolean(directory) === Boolean(keyEncryptionKeyFile)) return undefined
  const [missing, set] = directory
    ? (['FIELD_KEYS_KEK_FILE', 'FIELD_KEYS_DIR'] as const)
    : (['FIELD_KEYS_DIR', 'FIELD_KEYS_KEK_FILE'] as const)
  return {
    setting: missing,
    message: `required with ${set}: set both (the key store's folder and its key-encryption key file) or neither`,
  }
}
