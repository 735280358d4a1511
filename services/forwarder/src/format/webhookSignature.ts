import { createHmac } from 'node:crypto'

/** A Standard Webhooks secret (`whsec_` + base64), decoded; throws when it is not one. */
export function signingKeyFrom(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length < 24) {
    throw new Error('expected a Standard Webhooks secret: whsec_ followed by at least 24 base64 characters')
  }
  return Buffer.from(encoded, 'base64')
}

/**
 * The Standard Webhooks headers for `body`: `webhook-signature` is `v1,` and the base64
 * HMAC-SHA256 of `<id>.<timestamp>.<body>`, what `Webhook.verify` (standardwebhooks) checks.
 * Computed with node:crypto rather than the package's `sign`, whose pure-JS SHA-256 is several
 * times slower on the megabyte bodies a full batch makes.
 */
export function webhookSignatureHeaders(
  key: Buffer,
  id: string,
  nowMs: number,
  body: string | Buffer,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = String(Math.floor(nowMs / 1000))
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` }
}
