import { anyIndex, parsePathPattern, type PathSegment, type PatternSegment } from './jsonValuePath.js'

/**
 * A set of path patterns (sensitive fields, values to compare whole) and the two questions asked
 * of it. A pattern covers its own path and every path nested under it, segment by segment:
 * `customer` covers `customer.email` and `customer["e.mail"]` but not `customerId`; `cards`
 * covers `cards[0].number`; `cards[*].number` covers `cards[3].number` but not `cards[3].name`.
 */
export type PathPatterns = readonly (readonly PatternSegment[])[]

/** Parses each pattern; throws JsonValueError INVALID_PATH naming the first bad one. */
export function parsePathPatterns(patterns: readonly string[]): PathPatterns {
  return patterns.map(parsedPattern)
}

/**
 * Patterns already parsed, by their text: a producer passes the same few sensitive paths with
 * every event, and parsing them again (0.2 to 0.4 µs each) was a good part of a small record's
 * diff. Frozen, since every caller shares them; emptied when full, should patterns ever be built
 * from data.
 */
const parsedPatterns = new Map<string, readonly PatternSegment[]>()
const parsedPatternsLimit = 1000

function parsedPattern(pattern: string): readonly PatternSegment[] {
  let segments = parsedPatterns.get(pattern)
  if (segments === undefined) {
    segments = Object.freeze(parsePathPattern(pattern))
    if (parsedPatterns.size >= parsedPatternsLimit) parsedPatterns.clear()
    parsedPatterns.set(pattern, segments)
  }
  return segments
}

export function coversPath(patterns: PathPatterns, path: readonly PathSegment[]): boolean {
  return patterns.some((pattern) => pattern.length <= path.length && agreeSoFar(pattern, path))
}

/**
 * The patterns as seen from inside the value at `path`: those reaching it or below it, cut to the
 * part below it (`cards[*].number` within `cards` is `[*].number`). An empty one covers the whole
 * value. Patterns covering a container of `path` are not included: ask coversPath for those.
 */
export function patternsWithin(patterns: PathPatterns, path: readonly PathSegment[]): PathPatterns {
  return patterns
    .filter((pattern) => pattern.length >= path.length && agreeSoFar(pattern, path))
    .map((pattern) => pattern.slice(path.length))
}

function agreeSoFar(pattern: readonly PatternSegment[], path: readonly PathSegment[]): boolean {
  const length = Math.min(pattern.length, path.length)
  for (let i = 0; i < length; i++) {
    const expected = pattern[i]!
    const actual = path[i]!
    if (expected === anyIndex ? typeof actual !== 'number' : expected !== actual) return false
  }
  return true
}
