/**
 * The most one state entry's changelog text may take, bytes: half the broker's default
 * `message.max.bytes` (such an entry goes alone in a produce request of the evaluator's
 * transaction), so no single entry can make the broker refuse a transaction. Entries are far
 * smaller: a group's window, an object's last 200 field values.
 */
export const maxStateEntryBytes = 512 * 1024

/**
 * A state entry that cannot be written to the changelog: JSON.stringify threw (nested too deep for
 * the stack, a BigInt, a cycle), or its text is over maxStateEntryBytes. The event that made it is
 * dead-lettered and the entry forgotten (trackedStore.ts), so one event's data cannot stop the
 * transactions of every event after it.
 */
export class StateNotWritableError extends Error {
  override name = 'StateNotWritableError'
}

/**
 * An entry's changelog text; throws StateNotWritableError naming the store (`store`: a rule's
 * namespace, `entity`, `clock`; not the key, which holds event data such as an actor id) and the cause.
 */
export function stateEntryText(value: object, store: string): string {
  let text: string
  try {
    text = JSON.stringify(value)
  } catch (error) {
    const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    throw new StateNotWritableError(`the state entry in ${store} cannot be written: ${cause}`, {
      cause: error,
    })
  }
  // A UTF-16 unit takes at most 3 bytes in UTF-8: count the bytes only for text near the bound.
  if (text.length * 3 > maxStateEntryBytes) {
    const bytes = Buffer.byteLength(text)
    if (bytes > maxStateEntryBytes) {
      throw new StateNotWritableError(
        `the state entry in ${store} takes ${bytes} bytes, over the ${maxStateEntryBytes} a changelog entry may`,
      )
    }
  }
  return text
}
