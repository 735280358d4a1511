/**
 * The values a route condition accepts: exact strings, or globs where `*` stands for any run of
 * characters (none included, `.` included: `ticket.*` matches `ticket.assign` and `ticket.a.b`).
 * There is no other wildcard and no escape, so a pattern is read at a glance.
 *
 * No regular expressions: a glob is split at its stars once, at parse time, and matched with
 * `startsWith`, `endsWith` and `indexOf`, which is linear in the value for each star and cannot
 * backtrack, whatever the config says (no ReDoS from a config file).
 */

/** Does the value fit the condition? Allocates nothing. */
export type ValueMatcher = (value: string) => boolean

export const globWildcard = '*'

export function isGlob(pattern: string): boolean {
  return pattern.includes(globWildcard)
}

/** Compiles one glob into a matcher. */
export function compileGlob(glob: string): ValueMatcher {
  const parts = glob.split(globWildcard)
  const prefix = parts[0] ?? ''
  const suffix = parts.length > 1 ? (parts[parts.length - 1] ?? '') : ''
  // Consecutive stars leave empty parts, which constrain nothing.
  const middle = parts.slice(1, -1).filter((part) => part !== '')
  const minLength = prefix.length + suffix.length + middle.reduce((sum, part) => sum + part.length, 0)
  if (parts.length === 1) return (value) => value === glob
  if (middle.length === 0) {
    return (value) => value.length >= minLength && value.startsWith(prefix) && value.endsWith(suffix)
  }
  return (value) => {
    if (value.length < minLength || !value.startsWith(prefix) || !value.endsWith(suffix)) return false
    // With fixed ends, taking each middle part at its leftmost place is always right: it leaves
    // the most room for the parts after it.
    const end = value.length - suffix.length
    let from = prefix.length
    for (const part of middle) {
      const at = value.indexOf(part, from)
      if (at < 0 || at + part.length > end) return false
      from = at + part.length
    }
    return true
  }
}

/** Compiles a condition's values (any of them may match) into one matcher. */
export function compileValueMatcher(patterns: readonly string[]): ValueMatcher {
  const exact = patterns.filter((pattern) => !isGlob(pattern))
  const globs = patterns.filter(isGlob).map(compileGlob)
  const only = exact[0]
  if (globs.length === 0 && exact.length === 1 && only !== undefined) return (value) => value === only
  const exactSet = new Set(exact)
  if (globs.length === 0) return (value) => exactSet.has(value)
  return (value) => {
    if (exactSet.has(value)) return true
    for (const glob of globs) if (glob(value)) return true
    return false
  }
}

/**
 * Does every value `narrow` accepts also fit `wide`? Answers true only when sure (used to find
 * routes that can never match). A narrow glob is inside a wide one when they are the same, or the
 * wide one has a single star and its fixed start and end begin and end the narrow one's:
 * `ticket.*` covers `ticket.a*`, `*` covers everything.
 */
export function patternCovers(wide: readonly string[], narrow: string): boolean {
  if (!isGlob(narrow)) return compileValueMatcher(wide)(narrow)
  const narrowStart = narrow.slice(0, narrow.indexOf(globWildcard))
  const narrowEnd = narrow.slice(narrow.lastIndexOf(globWildcard) + 1)
  return wide.some((pattern) => {
    if (pattern === narrow) return true
    const [start, end, ...more] = pattern.split(globWildcard)
    if (start === undefined || end === undefined || more.length > 0) return false
    // Every narrow value is at least narrowStart + narrowEnd long, so start and end cannot overlap.
    return narrowStart.startsWith(start) && narrowEnd.endsWith(end)
  })
}
