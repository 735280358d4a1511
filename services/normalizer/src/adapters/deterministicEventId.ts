import { createHash } from 'node:crypto'

/**
 * Name-based UUIDs (RFC 9562 version 5: SHA-1 of a namespace and a name). Inputs without an event
 * id of their own get one derived from what identifies the input, so reading the same change
 * twice (a connector restarting from an older offset, a producer resending) gives the same
 * event_id and consumers deduplicate it.
 *
 * The namespaces are part of the contract: changing one changes every id derived with it, and
 * events read before and after the change would no longer deduplicate.
 */
export const eventIdNamespaces = {
  debezium: 'bbbc5394-6806-4b01-84cd-2ea6278ce283',
  cloudevents: 'f2336ca5-8b2a-4332-a8b9-b552611e477e',
} as const

export function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest()
  hash[6] = (hash[6]! & 0x0f) | 0x50 // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80 // RFC variant
  const hex = hash.toString('hex', 0, 16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Any UUID form (8-4-4-4-12 hex), as event-model's policy accepts for event_id. */
export { uuidPattern } from '@audit-pipeline/event-model'
