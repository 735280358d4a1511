import type { Webhook } from 'standardwebhooks'
import type { AlertPayload } from '../alerts/alertEvent.js'

/** A webhook request ready to send: the body and its Standard Webhooks headers. */
export type SignedRequest = { body: string; headers: Record<string, string> }

/**
 * The Standard Webhooks envelope (https://www.standardwebhooks.com): `{type, timestamp, data}`,
 * with `webhook-id` the alert id (receivers deduplicate on it), `webhook-timestamp` in seconds and
 * `webhook-signature` an HMAC-SHA256 over `id.timestamp.body` with the receiver's `whsec_` secret.
 */
export function signedRequest(payload: AlertPayload, signer: Webhook, sentAt: Date): SignedRequest {
  const body = JSON.stringify({
    type: `alert.${payload.status}`,
    timestamp: sentAt.toISOString(),
    data: payload,
  })
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': payload.alert_id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1_000)),
      'webhook-signature': signer.sign(payload.alert_id, sentAt, body),
    },
  }
}
