import { jsonNestingBeyond, maxJsonNestingDepth } from './jsonNesting.js'
import { JsonValueError } from './jsonValueError.js'
import { JsonNumber, type JsonObjectTree, type JsonTree } from './jsonValueTree.js'

// Tokens matched at a position (sticky). A string token is found up to its closing quote; JSON.parse
// then checks its escapes and refuses raw control characters.
const numberAt = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y
const stringAt = /"(?:[^"\\]|\\.)*"/y
const whitespaceAt = /[ \t\n\r]*/y

/**
 * Reads JSON text into a JsonTree without loss (see jsonValueTree.ts); accepts exactly what
 * JSON.parse accepts. A repeated key keeps its first position and its last value, as JSON.parse
 * does. Throws JsonValueError INVALID_JSON_TEXT naming `where` (the field holding the text), or
 * TOO_DEEP past maxJsonNestingDepth.
 */
export function parseJsonText(text: string, where: string): JsonTree {
  // Before the descent below, which recurses once per level.
  const tooDeepAt = jsonNestingBeyond(text, maxJsonNestingDepth)
  if (tooDeepAt !== undefined) {
    throw new JsonValueError(
      'TOO_DEEP',
      where,
      `${where} nests objects and arrays more than ${maxJsonNestingDepth} levels deep (at offset ${tooDeepAt})`,
    )
  }
  let at = 0
  // The message gives the offset only: the text may be personal data, and messages get logged.
  const invalid = (): never => {
    const found = at < text.length ? `character at offset ${at}` : 'end of text'
    throw new JsonValueError('INVALID_JSON_TEXT', where, `${where} is not JSON text: unexpected ${found}`)
  }
  const token = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at
    const found = pattern.exec(text)?.[0]
    if (found !== undefined) at += found.length
    return found
  }
  /** The next character after any whitespace. */
  const peek = (): string | undefined => {
    token(whitespaceAt)
    return text[at]
  }
  /** After an item or member: true when a comma says another follows, false at the closing bracket. */
  const another = (closing: string): boolean => {
    const char = peek()
    if (char !== ',' && char !== closing) invalid()
    at += 1
    return char === ','
  }
  const string = (): string => {
    const start = at
    const literal = token(stringAt) ?? invalid()
    try {
      return JSON.parse(literal) as string
    } catch {
      at = start
      return invalid()
    }
  }

  const value = (): JsonTree => {
    const char = peek()
    if (char === '{') return object()
    if (char === '[') return array()
    if (char === '"') return string()
    for (const [literal, parsed] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(literal, at)) {
        at += literal.length
        return parsed
      }
    }
    return new JsonNumber(token(numberAt) ?? invalid())
  }
  const array = (): JsonTree[] => {
    at += 1
    const items: JsonTree[] = []
    if (peek() === ']') {
      at += 1
      return items
    }
    do items.push(value())
    while (another(']'))
    return items
  }
  const object = (): JsonObjectTree => {
    at += 1
    const members: JsonObjectTree = new Map()
    if (peek() === '}') {
      at += 1
      return members
    }
    do {
      if (peek() !== '"') invalid()
      const key = string()
      if (peek() !== ':') invalid()
      at += 1
      members.set(key, value())
    } while (another('}'))
    return members
  }

  const tree = value()
  if (peek() !== undefined) invalid()
  return tree
}
