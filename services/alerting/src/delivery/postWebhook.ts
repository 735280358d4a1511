import { errors, request, type Dispatcher } from 'undici'
import { findAddressRefusal } from '@audit-pipeline/outbound'
import type { AttemptResult } from './deliveryOutcome.js'
import type { SignedRequest } from './signedRequest.js'

const timeoutCodes = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/**
 * One POST of a signed webhook; never throws for what the network or receiver did. Give it the
 * receiver's guarded dispatcher (guardedAgent.ts): a host the receiver may not reach comes back
 * as `refused`, before anything was sent.
 */
export async function postWebhook(
  url: string,
  signed: SignedRequest,
  options: { timeoutMs: number; dispatcher?: Dispatcher; signal?: AbortSignal },
): Promise<AttemptResult> {
  try {
    const response = await request(url, {
      method: 'POST',
      headers: signed.headers,
      body: signed.body,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      ...(options.dispatcher && { dispatcher: options.dispatcher }),
      ...(options.signal && { signal: options.signal }),
    })
    // The body is not needed, but must be read for the connection to be reused.
    await response.body.dump()
    const retryAfter = response.headers['retry-after']
    return {
      kind: 'response',
      status: response.statusCode,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    }
  } catch (error) {
    if (options.signal?.aborted) throw error
    const refusal = findAddressRefusal(error)
    if (refusal) return { kind: 'refused', address: refusal.address, message: refusal.message }
    const code =
      error instanceof errors.UndiciError ? error.code : ((error as { code?: string }).code ?? 'UNKNOWN')
    return timeoutCodes.has(code) ? { kind: 'timeout' } : { kind: 'network', code }
  }
}
