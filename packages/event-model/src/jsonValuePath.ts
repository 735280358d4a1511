import { JsonValueError } from './jsonValueError.js'

/**
 * Field paths, as in `FieldChange.path` and `sensitive_fields`: where a value sits inside a
 * snapshot. The grammar keeps every path unambiguous, whatever characters the keys contain:
 *
 *     path    = first { rest }
 *     first   = name | bracket
 *     rest    = "." name | bracket
 *     name    = 1*( ALPHA | DIGIT | "_" | "-" )        e.g. customer, address_line-2, 2fa
 *     bracket = "[" ( index | quoted ) "]"
 *     index   = "0" | %x31-39 *DIGIT                   an array item: tags[2]
 *     quoted  = a JSON string literal                  any other key: labels["e.mail"], a["x y"], m[""]
 *
 * `formatPath` writes a key bare when it is a name and quoted otherwise, so each path has one
 * written form; `parsePath` also accepts a quoted name (`["city"]` is the path `city`). A numeric
 * key and an index differ: `m.0` is the key "0" of an object, `m[0]` the first item of an array.
 */

/** A key of an object (string) or the index of an array item (number). */
export type PathSegment = string | number

const namePattern = /^[A-Za-z0-9_-]+$/

export function formatPath(segments: readonly PathSegment[]): string {
  return segments.reduce<string>((path, segment) => appendToPath(path, segment), '')
}

/**
 * Where a value sits, for a change or an error: its path, or the segments of its path. Walks over
 * whole snapshots keep the segments on a stack and format them only for the few values that need
 * a path (a change, a refusal) instead of for every value they pass.
 */
export type ValuePath = string | readonly PathSegment[]

export function pathText(path: ValuePath): string {
  return typeof path === 'string' ? path : formatPath(path)
}

/** The path of a key or item inside the value at `path` (`''` is the snapshot itself). */
export function appendToPath(path: string, segment: PathSegment): string {
  if (typeof segment === 'number') return `${path}[${segment}]`
  if (!namePattern.test(segment)) return `${path}[${JSON.stringify(segment)}]`
  return path === '' ? segment : `${path}.${segment}`
}

/**
 * What a path pattern (a sensitive field, a `wholeAt` option) may add to a path: `[*]`, any item
 * of an array, so `cards[*].number` names the number of every card.
 */
export const anyIndex: unique symbol = Symbol('[*]')
export type PatternSegment = PathSegment | typeof anyIndex

/** The segments of a path; throws JsonValueError INVALID_PATH naming the path and the offset. */
export function parsePath(path: string): PathSegment[] {
  return parseSegments(path, false) as PathSegment[]
}

/** Like parsePath, also accepting `[*]` for any array index. */
export function parsePathPattern(pattern: string): PatternSegment[] {
  return parseSegments(pattern, true)
}

const nameAt = /[A-Za-z0-9_-]+/y
const indexAt = /(?:0|[1-9][0-9]*)(?=\])/y
// Up to the closing quote; JSON.parse then checks the escapes and rejects raw control characters.
const quotedAt = /"(?:[^"\\]|\\.)*"(?=\])/y

function parseSegments(path: string, allowAnyIndex: boolean): PatternSegment[] {
  const segments: PatternSegment[] = []
  let at = 0
  const invalid = (expected: string): never => {
    throw new JsonValueError(
      'INVALID_PATH',
      path,
      `invalid field path ${JSON.stringify(path)}: expected ${expected} at offset ${at}`,
    )
  }
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at
    const found = pattern.exec(path)?.[0]
    if (found !== undefined) at += found.length
    return found
  }
  const name = () => match(nameAt) ?? invalid('a key (letters, digits, _ or -)')

  if (path[0] !== '[') segments.push(name())
  while (at < path.length) {
    if (path[at] === '.') {
      at += 1
      segments.push(name())
      continue
    }
    if (path[at] !== '[') invalid('"." or "["')
    at += 1
    const index = match(indexAt)
    const quoted = index === undefined ? match(quotedAt) : undefined
    if (index !== undefined) {
      const value = Number(index)
      if (!Number.isSafeInteger(value)) invalid('an index below 2^53')
      segments.push(value)
    } else if (quoted !== undefined) {
      segments.push(parseQuotedKey(quoted) ?? invalid('a JSON string literal'))
    } else if (allowAnyIndex && path.startsWith('*]', at)) {
      at += 1
      segments.push(anyIndex)
    } else {
      invalid(allowAnyIndex ? 'an index, [*] or a quoted key' : 'an index or a quoted key')
    }
    at += 1 // the closing bracket, guaranteed by the lookaheads
  }
  return segments
}

function parseQuotedKey(literal: string): string | undefined {
  try {
    return JSON.parse(literal) as string
  } catch {
    return undefined
  }
}

/**
 * Orders paths segment by segment: keys by UTF-16 code units (not locale, so every machine sorts
 * the same), indexes numerically (`tags[2]` before `tags[10]`), a path before the paths under it.
 */
export function comparePaths(a: string, b: string): number {
  return compareSegmentLists(parsePath(a), parsePath(b))
}

export function compareSegmentLists(a: readonly PathSegment[], b: readonly PathSegment[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareSegments(a[i]!, b[i]!)
    if (order !== 0) return order
  }
  return a.length - b.length
}

function compareSegments(a: PathSegment, b: PathSegment): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  // Items and keys never share a parent; ordering indexes first merely keeps the order total.
  if (typeof a === 'number') return -1
  if (typeof b === 'number') return 1
  return compareKeys(a, b)
}

/** Code-unit order, the same on every machine and locale. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
