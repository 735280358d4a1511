import type { AuditEvent } from './auditEvent.js'

/**
 * The Kafka message key: tenant, object type and the object's full id, so every event about one
 * object lands on one partition and its history stays in order. Parts are joined with a
 * character ids do not contain in practice and escaped if they do, so two different objects can
 * never share a key.
 */
export function partitionKeyFor(event: Pick<AuditEvent, 'tenant' | 'object'>): string {
  const { type, id, id2, id3 } = event.object
  // A missing id2 stays an empty part when id3 is set, so (null, x) and (x, null) differ.
  const parts = [event.tenant, type, id, id2 ?? '', id3 ?? '']
  while (parts.length > 3 && parts.at(-1) === '') parts.pop()
  return parts.map((part) => part.replaceAll('\\', '\\\\').replaceAll('/', '\\/')).join('/')
}
