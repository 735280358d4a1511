import type { IHeaders } from 'kafkajs'
import type { MessageHeaders } from '../adapters/inputMessage.js'

/**
 * kafkajs hands headers over as Buffers (arrays when a name repeats); the adapters read text.
 * A repeated header gives its last value, which is what Kafka clients' `lastHeader` returns.
 */
export function textHeaders(headers: IHeaders | undefined): MessageHeaders {
  const text: Record<string, string | undefined> = {}
  if (!headers) return text
  for (const [name, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value.at(-1) : value
    text[name] = last === undefined ? undefined : last.toString()
  }
  return text
}
