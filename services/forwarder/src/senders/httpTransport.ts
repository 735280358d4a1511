import { Pool } from 'undici'
import { guardedLookup, type ResolveAll } from '@audit-pipeline/outbound'
import { httpOutcome, networkFailure } from '../delivery/httpOutcome.js'
import type { HttpDestination } from '../destinations/destination.js'
import { webhookSignatureHeaders } from '../format/webhookSignature.js'
import type { Transport } from './transport.js'

export type HttpTransportOptions = {
  now?: () => number
  /** The resolver behind the address check; tests give their own. */
  resolve?: ResolveAll
}

/**
 * POSTs batches to a webhook or Splunk HEC endpoint over a connection pool of its own (undici):
 * every connection's address is checked (guardedLookup), certificates are verified unless the
 * destination says otherwise, connecting and waiting for the answer have timeouts, redirects are
 * not followed, and at most `maxResponseBytes` of an answer is read (it only serves the error
 * message).
 */
export function createHttpTransport(
  destination: HttpDestination,
  options: HttpTransportOptions = {},
): Transport {
  const now = options.now ?? Date.now
  const { url, tls, timeouts } = destination
  const pool = new Pool(url.origin, {
    connections: 8,
    headersTimeout: timeouts.responseMs,
    bodyTimeout: timeouts.responseMs,
    connect: {
      timeout: timeouts.connectMs,
      lookup: guardedLookup(destination.outbound, options.resolve),
      rejectUnauthorized: tls.verify,
      ...(tls.ca !== undefined && { ca: tls.ca }),
    },
  })
  const path = `${url.pathname}${url.search}`
  return {
    async send(batch, signal) {
      const headers: Record<string, string> = {
        ...destination.headers,
        'content-type': destination.format.contentType,
        ...(destination.signingKey &&
          webhookSignatureHeaders(destination.signingKey, batch.id, now(), batch.body)),
      }
      let response
      try {
        response = await pool.request({ method: 'POST', path, headers, body: batch.body, signal })
      } catch (error) {
        throw networkFailure(error)
      }
      let text: string
      try {
        text = await readCapped(response.body, destination.maxResponseBytes)
      } catch (error) {
        throw networkFailure(error)
      }
      const retryAfter = response.headers['retry-after']
      const failure = httpOutcome(
        response.statusCode,
        Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        text,
        now(),
      )
      if (failure) throw failure
    },
    close: () => pool.close(),
  }
}

/** The answer's first `maxBytes`; the rest is discarded unread (the connection is closed then). */
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): void },
  maxBytes: number,
): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const room = maxBytes - size
    if (chunk.length >= room) {
      chunks.push(chunk.subarray(0, room))
      body.destroy()
      return `${Buffer.concat(chunks).toString('utf8')}… (cut at ${maxBytes} bytes)`
    }
    chunks.push(chunk)
    size += chunk.length
  }
  return Buffer.concat(chunks).toString('utf8')
}
