import { AuditError } from '@audit-pipeline/errors'

/**
 * Standard Webhooks asks for signing secrets of 24 to 64 random bytes
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
 * "Signature scheme"): below 24 bytes (192 bits) an HMAC key is within reach of guessing.
 */
export const minWebhookSecretBytes = 24

/** How an operator makes a secret that passes; named in every refusal. */
const howToMakeOne = 'make one with: echo "whsec_$(openssl rand -base64 32)"'

/** A signing secret that is not a Standard Webhooks secret, or is too short to be one. */
export class WebhookSecretError extends AuditError<'WEBHOOK_SECRET_INVALID'> {
  constructor(message: string) {
    super('WEBHOOK_SECRET_INVALID', message, false)
  }
}

/**
 * The HMAC key of a Standard Webhooks secret (`whsec_` + base64; the prefix may be left out, as
 * the standardwebhooks library allows): its decoded bytes, at least `minWebhookSecretBytes` of
 * them. Throws WebhookSecretError saying what is wrong; the caller adds which receiver or
 * destination and which field.
 */
export function webhookSigningKey(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new WebhookSecretError(
      `expected a Standard Webhooks secret, whsec_ followed by base64 of at least ${minWebhookSecretBytes} bytes; ${howToMakeOne}`,
    )
  }
  const key = Buffer.from(encoded, 'base64')
  if (key.length < minWebhookSecretBytes) {
    throw new WebhookSecretError(
      `a Standard Webhooks secret must hold at least ${minWebhookSecretBytes} bytes once decoded, this one holds ${key.length}; ${howToMakeOne}`,
    )
  }
  return key
}
