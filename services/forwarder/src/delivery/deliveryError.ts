import { AuditError } from '@audit-pipeline/errors'

export const deliveryErrorCodes = [
  /** The destination could not be reached or asked for time (5xx, 408, 429, timeouts, resets). */
  'DESTINATION_UNAVAILABLE',
  /** The destination answered that it will not take the batch (other 4xx, redirects). */
  'DESTINATION_REJECTED',
  /** The forwarder refused to connect: the host resolves to an address the destination may not reach. */
  'DESTINATION_REFUSED',
] as const

export type DeliveryErrorCode = (typeof deliveryErrorCodes)[number]

export type DeliveryErrorDetails = {
  /** A finer code for metrics and dead letters: HTTP_503, TIMEOUT, CONNECT_REFUSED, PRIVATE_ADDRESS, … */
  reason: string
  /** What the destination asked for with `Retry-After`, ms. */
  retryAfterMs?: number
  cause?: unknown
}

/** One failed attempt to hand a batch to a destination. */
export class DeliveryError extends AuditError<DeliveryErrorCode> {
  readonly reason: string
  readonly retryAfterMs: number | undefined

  constructor(code: DeliveryErrorCode, message: string, details: DeliveryErrorDetails) {
    super(code, message, code === 'DESTINATION_UNAVAILABLE', { cause: details.cause })
    this.reason = details.reason
    this.retryAfterMs = details.retryAfterMs
  }
}
