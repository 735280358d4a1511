import type { Message } from 'kafkajs'

/**
 * `messages` in runs of at most `maxBytes` (a larger message goes alone), in order: a broker
 * refuses a record batch over `message.max.bytes`, and kafkajs sends one batch per partition per
 * request. Sizes are `sizeOf` each, by default the value's bytes.
 */
export function chunksOfBytes(
  messages: readonly Message[],
  maxBytes: number,
  sizeOf: (message: Message) => number = valueBytes,
): Message[][] {
  const chunks: Message[][] = []
  let current: Message[] = []
  let bytes = 0
  for (const message of messages) {
    const size = sizeOf(message)
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(message)
    bytes += size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

const bytesOf = (value: Buffer | string | null | undefined) =>
  value === null || value === undefined
    ? 0
    : typeof value === 'string'
      ? Buffer.byteLength(value)
      : value.length

function valueBytes(message: Message): number {
  return bytesOf(message.value)
}

/** Record framing and batch overhead per message, generously. */
const perRecordAllowance = 64

/** A record's size on the wire, estimated: key, value, headers and a per-record allowance. */
export function recordBytes(message: Message): number {
  let bytes = perRecordAllowance + bytesOf(message.key) + bytesOf(message.value)
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += Buffer.byteLength(name)
    for (const part of Array.isArray(value) ? value : [value]) bytes += bytesOf(part)
  }
  return bytes
}
