import { createHmac } from 'node:crypto'

/**
 * The Standard Webhooks headers for `body`: `webhook-signature` is `v1,` and the base64
 * HMAC-SHA256 of `<id>.<timestamp>.<body>`, what `Webhook.verify` (standardwebhooks) checks.
 * `key` is the decoded secret (`webhookSigningKey` of @audit-pipeline/outbound, which refuses one
 * under 24 bytes when the destinations file is read).
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
