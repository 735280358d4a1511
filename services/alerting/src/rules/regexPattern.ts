import { RE2JS, RE2JSException } from 're2js'

/**
 * Regular expressions for CEL's `matches()`, run by RE2 (re2js, a port of RE2/J): the time taken
 * is linear in the text whatever the pattern, so `^(a+)+$` over 40,000 `a`s and a `!` takes
 * milliseconds where JavaScript's backtracking RegExp would never finish. CEL specifies RE2 syntax
 * for `matches()` (https://github.com/google/cel-spec/blob/master/doc/langdef.md#regular-expressions),
 * so this is also the language's own semantics: `\z`, `(?i)`, `[[:alpha:]]` work; backreferences and
 * lookaround do not exist, and a pattern using them is refused.
 */

/**
 * Longest pattern accepted, in characters. A rule's patterns are short; a pattern read from an
 * event is data, and its compilation cost grows with its length.
 */
export const maxPatternLength = 1_000

/** A pattern RE2 cannot run: syntax it does not have (backreferences, lookaround), or too long. */
export class PatternError extends Error {
  override name = 'PatternError'
}

/** Patterns written in rules, compiled when the rules are loaded: as many as the rules have. */
const pinned = new Map<string, RE2JS>()
/**
 * Patterns read from events (`event.x.matches(event.y)`), compiled when first seen, least
 * recently used first. Bounded because each pattern's DFA cache may grow to 8 MB (re2js's budget).
 */
const recent = new Map<string, RE2JS>()
const maxRecentPatterns = 64

/**
 * The pattern compiled by RE2; throws PatternError naming what RE2 refused. `pin` keeps it for the
 * process's life (a rule's own pattern); others are kept while recently used.
 */
export function compilePattern(pattern: string, options: { pin?: boolean } = {}): RE2JS {
  const known = pinned.get(pattern) ?? recent.get(pattern)
  if (known !== undefined) {
    if (options.pin === true) {
      recent.delete(pattern)
      pinned.set(pattern, known)
    } else if (recent.delete(pattern)) recent.set(pattern, known)
    return known
  }
  if (pattern.length > maxPatternLength) {
    throw new PatternError(
      `a regular expression of ${pattern.length} characters; at most ${maxPatternLength} are accepted`,
    )
  }
  let regex: RE2JS
  try {
    regex = RE2JS.compile(pattern)
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error
    throw new PatternError(
      `${error.message} (matches() takes RE2 syntax: no backreferences, no lookahead or lookbehind)`,
      { cause: error },
    )
  }
  if (options.pin === true) {
    pinned.set(pattern, regex)
    return regex
  }
  if (recent.size >= maxRecentPatterns) {
    const oldest = recent.keys().next()
    if (!oldest.done) recent.delete(oldest.value)
  }
  recent.set(pattern, regex)
  return regex
}

/** CEL's `text.matches(pattern)`: whether the pattern matches anywhere in the text (RE2 semantics). */
export function regexMatches(text: string, pattern: string): boolean {
  return compilePattern(pattern).test(text)
}
