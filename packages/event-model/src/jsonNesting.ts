import type { AuditEvent } from './auditEvent.js'

/**
 * How deep a JSON value an event carries may nest (a snapshot, a change's old or new value): 64
 * levels of objects and arrays. Every service agrees on it, and checks it on the text before any
 * recursive walk (parse, diff, redaction, rule evaluation), so a hostile event is refused as too
 * deep, the same way everywhere, instead of overflowing a stack wherever it is first walked. Real
 * records nest a few levels; 64 leaves room for any document store's.
 */
export const maxJsonNestingDepth = 64

/**
 * Levels a whole input message may add around its values (an envelope such as CloudEvents'
 * `data` or Debezium's `payload.before`), on top of maxJsonNestingDepth.
 */
export const maxEnvelopeNestingDepth = 8

/**
 * The offset in `text` (a string, or UTF-8 bytes: brackets, quotes and backslashes are single
 * bytes there, never part of another character) where its objects and arrays nest deeper than
 * `maxDepth`, or undefined when they do not. One pass, no recursion and no parse: it only counts
 * brackets outside strings, so it is safe on any input, valid JSON or not.
 */
export function jsonNestingBeyond(text: string | Uint8Array, maxDepth: number): number | undefined {
  // Two loops rather than one with an accessor: this runs on every event a service reads.
  return typeof text === 'string' ? stringNestingBeyond(text, maxDepth) : bytesNestingBeyond(text, maxDepth)
}

function stringNestingBeyond(text: string, maxDepth: number): number | undefined {
  let depth = 0
  let inString = false
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at)
    if (inString) {
      if (code === 0x5c)
        at++ // a backslash escapes the next character
      else if (code === 0x22) inString = false
    } else if (code === 0x22) inString = true
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > maxDepth) return at
    } else if (code === 0x5d || code === 0x7d) depth--
  }
  return undefined
}

function bytesNestingBeyond(bytes: Uint8Array, maxDepth: number): number | undefined {
  let depth = 0
  let inString = false
  for (let at = 0; at < bytes.length; at++) {
    const code = bytes[at]
    if (inString) {
      if (code === 0x5c) at++
      else if (code === 0x22) inString = false
    } else if (code === 0x22) inString = true
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > maxDepth) return at
    } else if (code === 0x5d || code === 0x7d) depth--
  }
  return undefined
}

/**
 * Which JSON text of an event nests past maxJsonNestingDepth (`before`, `after`, a change's
 * `old_value` or `new_value`), as a message naming the field; undefined when none does.
 */
export function eventNestingProblem(
  event: Pick<AuditEvent, 'before' | 'after' | 'changes'>,
): string | undefined {
  // The field's name is made only for a problem: this runs on every event.
  const problem = (text: string | null, field: () => string) => {
    const at = text === null ? undefined : stringNestingBeyond(text, maxJsonNestingDepth)
    return at === undefined
      ? undefined
      : `${field()} nests objects and arrays more than ${maxJsonNestingDepth} levels deep (at offset ${at})`
  }
  let found = problem(event.before, () => 'before') ?? problem(event.after, () => 'after')
  for (let index = 0; found === undefined && index < event.changes.length; index++) {
    const change = event.changes[index]!
    found =
      problem(change.old_value, () => `changes[${index}].old_value`) ??
      problem(change.new_value, () => `changes[${index}].new_value`)
  }
  return found
}
