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
  return patterns.map(parsePathPattern)
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
