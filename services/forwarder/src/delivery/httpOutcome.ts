import { findAddressRefusal } from '@audit-pipeline/outbound'
import { DeliveryError } from './deliveryError.js'
import { parseRetryAfter } from './retryPolicy.js'

/**
 * What an HTTP answer means for the batch: undefined when the destination took it (2xx), else the
 * error to retry or to dead-letter with. 408, 429 and 5xx are worth retrying; a redirect is not
 * followed (it could lead anywhere, a private address included) and, like the other 4xx, is final.
 */
export function httpOutcome(
  status: number,
  retryAfter: string | undefined,
  responseText: string,
  nowMs: number,
): DeliveryError | undefined {
  if (status >= 200 && status < 300) return undefined
  const detail = responseText.trim() === '' ? '' : `: ${responseText.trim().slice(0, 300)}`
  const reason = `HTTP_${status}`
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter, nowMs)
    return new DeliveryError('DESTINATION_UNAVAILABLE', `HTTP ${status}${detail}`, {
      reason,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    })
  }
  const what = status >= 300 && status < 400 ? 'a redirect, not followed' : 'refused'
  return new DeliveryError('DESTINATION_REJECTED', `HTTP ${status} (${what})${detail}`, { reason })
}

/** Network error codes that another attempt may get past (Node's and undici's). */
const transientCodes = new Map<string, string>([
  ['ECONNREFUSED', 'CONNECT_REFUSED'],
  ['ECONNRESET', 'CONNECTION_RESET'],
  ['EPIPE', 'CONNECTION_RESET'],
  ['ETIMEDOUT', 'TIMEOUT'],
  ['EHOSTUNREACH', 'UNREACHABLE'],
  ['ENETUNREACH', 'UNREACHABLE'],
  ['EAI_AGAIN', 'DNS_FAILED'],
  ['ENOTFOUND', 'DNS_FAILED'],
  ['UND_ERR_CONNECT_TIMEOUT', 'CONNECT_TIMEOUT'],
  ['UND_ERR_HEADERS_TIMEOUT', 'RESPONSE_TIMEOUT'],
  ['UND_ERR_BODY_TIMEOUT', 'RESPONSE_TIMEOUT'],
  ['UND_ERR_SOCKET', 'CONNECTION_RESET'],
  ['UND_ERR_CLOSED', 'CONNECTION_RESET'],
  ['ERR_SOCKET_CLOSED', 'CONNECTION_RESET'],
  ['RESPONSE_TOO_LARGE', 'RESPONSE_TOO_LARGE'],
])

/**
 * A failure to talk to the destination at all, as a DeliveryError. Known transient network codes
 * are retried; anything else (a TLS certificate that does not verify, a protocol error) is final,
 * so a misconfiguration shows up in the dead-letter topic instead of being retried for ever. A
 * host refused by the destination's address policy (the connect-time guard) is final too.
 */
export function networkFailure(error: unknown): DeliveryError {
  const own = findDeliveryError(error)
  if (own) return own
  const refusal = findAddressRefusal(error)
  if (refusal) {
    return new DeliveryError('DESTINATION_REFUSED', refusal.message, {
      reason: 'PRIVATE_ADDRESS',
      cause: refusal,
    })
  }
  const code = errorCode(error)
  const message = error instanceof Error ? error.message : String(error)
  const transient = code === undefined ? undefined : transientCodes.get(code)
  if (transient) {
    return new DeliveryError('DESTINATION_UNAVAILABLE', `${code}: ${message}`, {
      reason: transient,
      cause: error,
    })
  }
  return new DeliveryError('DESTINATION_REJECTED', `${code ?? 'error'}: ${message}`, {
    reason: code !== undefined && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'CONNECTION_FAILED',
    cause: error,
  })
}

/** The DeliveryError in `error`'s cause chain (undici wraps what a connect `lookup` failed with). */
export function findDeliveryError(error: unknown): DeliveryError | undefined {
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof DeliveryError) return current
    current = current instanceof Error ? current.cause : undefined
  }
  return undefined
}

function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    current = current.cause
  }
  return undefined
}
