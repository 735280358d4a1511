import {
  redactEvent,
  writeJsonText,
  type AuditEvent,
  type JsonTree,
  type RedactableEvent,
} from '@audit-pipeline/event-model'
import type { KeyStore } from './keyStore.js'
import { sealValue } from './sealedValue.js'
import { subjectOf, type SubjectRule } from './subjectRule.js'

/**
 * The event with every value at its `sensitive_fields` sealed (sealedValue.ts) under its data
 * subject's key, in `changes`, `before` and `after`; the paths, value types and everything else
 * stay readable. Values already sealed, hashed or dropped stay as they are, so sealing twice (the
 * SDK, then the normalizer's tenant policy) changes nothing. An event with nothing sensitive is
 * returned as it is, without touching the key store.
 */
export async function sealEvent<
  E extends RedactableEvent & Pick<AuditEvent, 'tenant' | 'event_id' | 'actor' | 'object' | 'attributes'>,
>(event: E, keys: KeyStore, subject: SubjectRule): Promise<E> {
  if (event.sensitive_fields.length === 0) return event
  const [dataKey, indexKey] = await Promise.all([
    keys.dataKeyFor(event.tenant, subjectOf(event, subject)),
    keys.indexKeyFor(event.tenant),
  ])
  const context = { tenant: event.tenant, eventId: event.event_id }
  // A value sealed for one event always seals to the same string (the IV is synthetic), and the
  // same value often appears twice (a change's new value, the after snapshot's): seal it once.
  const sealed = new Map<string, string>()
  const seal = (value: JsonTree): string => {
    const text = writeJsonText(value, { sortKeys: false })
    let result = sealed.get(text)
    if (result === undefined) {
      result = sealValue(value, dataKey, indexKey, context)
      sealed.set(text, result)
    }
    return result
  }
  return redactEvent(event, { mode: 'encrypt', seal })
}
