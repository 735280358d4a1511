import {
  droppedValue,
  erasedValue,
  parseJsonText,
  sealedValuePattern,
  writeJsonText,
  type AuditEvent,
  type JsonTree,
} from '@audit-pipeline/event-model'
import type { KeyLookup, KeyStore } from './keyStore.js'
import { openSealedValue } from './sealedValue.js'

/** Shown for a sealed value that does not open: its key unknown here, or its bytes not ours. */
export const unreadableValue = '[unreadable]'

/** The parts of an event that hold sealed values, and what they are sealed for. */
export type SealedParts = Pick<AuditEvent, 'tenant' | 'event_id' | 'changes' | 'before' | 'after'>

const sealedMarker = '"enc:v1:'
const keyIdsInText = /"enc:v1:([A-Za-z0-9_-]{1,64}):/g

/**
 * The events with their sealed values opened: each becomes the value it seals, `[erased]` when
 * its key was destroyed, `[unreadable]` when it does not open. Each key is looked up once per
 * call, so an erasure is seen by the next call, whatever any cache holds.
 */
export async function openEvents<E extends SealedParts>(events: readonly E[], keys: KeyStore): Promise<E[]> {
  const wanted = new Set<string>()
  for (const event of events) for (const text of textsOf(event)) collectKeyIds(text, wanted)
  if (wanted.size === 0) return [...events]
  const found = new Map<string, KeyLookup>()
  await Promise.all([...wanted].map(async (keyId) => found.set(keyId, await keys.keyById(keyId))))
  return events.map((event) =>
    replaceSealed(event, (sealed) => {
      const keyId = sealedValuePattern.exec(sealed)?.[1] as string
      const lookup = found.get(keyId)
      if (lookup?.state === 'erased') return erasedValue
      if (lookup?.state !== 'active' || lookup.key.tenant !== event.tenant) return unreadableValue
      return (
        openSealedValue(sealed, lookup.key, { tenant: event.tenant, eventId: event.event_id }) ??
        unreadableValue
      )
    }),
  )
}

/** The event with every sealed value replaced by `[redacted]`: what a reader without the right sees. */
export function hideSealedValues<E extends SealedParts>(event: E): E {
  return replaceSealed(event, () => droppedValue)
}

/** Whether any change or snapshot of the event holds a sealed value. */
export function holdsSealedValues(event: SealedParts): boolean {
  return textsOf(event).some((text) => text.includes(sealedMarker))
}

function replaceSealed<E extends SealedParts>(event: E, replace: (sealed: string) => JsonTree): E {
  if (!holdsSealedValues(event)) return event
  const map = (text: string | null): string | null => {
    if (text === null || !text.includes(sealedMarker)) return text
    let tree: JsonTree
    try {
      tree = parseJsonText(text, 'value')
    } catch {
      // Not JSON: nothing in it was sealed by us. A reader sees it as stored, as SQL does.
      return text
    }
    return writeJsonText(mapTree(tree, replace), { sortKeys: false })
  }
  return {
    ...event,
    changes: event.changes.map((change) => ({
      ...change,
      old_value: map(change.old_value),
      new_value: map(change.new_value),
    })),
    before: map(event.before),
    after: map(event.after),
  }
}

function mapTree(tree: JsonTree, replace: (sealed: string) => JsonTree): JsonTree {
  if (typeof tree === 'string') return sealedValuePattern.test(tree) ? replace(tree) : tree
  if (Array.isArray(tree)) return tree.map((item) => mapTree(item, replace))
  if (tree instanceof Map) return new Map([...tree].map(([key, value]) => [key, mapTree(value, replace)]))
  return tree
}

function textsOf(event: SealedParts): string[] {
  const texts: string[] = []
  for (const change of event.changes) {
    if (change.old_value !== null) texts.push(change.old_value)
    if (change.new_value !== null) texts.push(change.new_value)
  }
  if (event.before !== null) texts.push(event.before)
  if (event.after !== null) texts.push(event.after)
  return texts
}

function collectKeyIds(text: string, into: Set<string>): void {
  if (!text.includes(sealedMarker)) return
  for (const match of text.matchAll(keyIdsInText)) into.add(match[1] as string)
}
