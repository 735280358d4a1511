import type { Message } from 'kafkajs'

/** `messages` in runs of at most `maxBytes` of values (a larger message goes alone). */
export function chunksOfBytes(messages: readonly Message[], maxBytes: number): Message[][] {
  const chunks: Message[][] = []
  let current: Message[] = []
  let bytes = 0
  for (const message of messages) {
    const size = message.value?.length ?? 0
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
