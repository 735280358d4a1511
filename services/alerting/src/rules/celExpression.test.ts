import { describe, expect, it } from 'vitest'
import { compileExpression, ExpressionError } from './celExpression.js'
import { parseRules } from './parseRules.js'
import { PatternError, regexMatches } from './regexPattern.js'
import { RulesConfigError } from './rulesConfigError.js'

const context = (attributes: Record<string, string>, changes: { path: string; new: unknown }[] = []) => ({
  event: { attributes, changes },
  changed: {},
  entity: {},
  first: {},
})

/** Runs `run` and returns its result with the time it took, ms. */
function timed<T>(run: () => T): { result: T; ms: number } {
  const started = performance.now()
  const result = run()
  return { result, ms: performance.now() - started }
}

describe('matches() on RE2', () => {
  // `^(a+)+$` against 40,000 `a`s and a `!`: a backtracking engine tries every way of splitting
  // the `a`s between the groups (2^40000) before failing; RE2 reads the text once.
  const hostile = `${'a'.repeat(40_000)}!`
  // Generous: RE2 takes milliseconds here (re2js's first compilation included); JavaScript's
  // RegExp would not finish in the age of the universe.
  const boundMs = 2_000

  it('a backtracking pattern written in the rule completes in bounded time, with the right result', () => {
    const expression = compileExpression("event.attributes.text.matches('^(a+)+$')", 'bool')
    const failing = timed(() => expression.evaluate(context({ text: hostile })))
    expect(failing.result).toBe(false)
    expect(failing.ms).toBeLessThan(boundMs)
    const matching = timed(() => expression.evaluate(context({ text: 'a'.repeat(40_000) })))
    expect(matching.result).toBe(true)
    expect(matching.ms).toBeLessThan(boundMs)
  })

  it('a pattern from event data cannot backtrack either, and one RE2 refuses fails the expression', () => {
    const expression = compileExpression('event.attributes.text.matches(event.attributes.pattern)', 'bool')
    const run = timed(() => expression.evaluate(context({ text: hostile, pattern: '(a|aa)+$' })))
    expect(run.result).toBe(false)
    expect(run.ms).toBeLessThan(boundMs)
    expect(expression.evaluate(context({ text: 'xaay', pattern: '(a|aa)+y$' }))).toBe(true)
    // A backreference: no match possible, the expression fails (the rule counts an expression error).
    expect(() => expression.evaluate(context({ text: 'aa', pattern: '(a)\\1' }))).toThrow(/RE2 syntax/)
    expect(() => expression.evaluate(context({ text: 'a', pattern: 'a'.repeat(2_000) }))).toThrow(
      /at most 1000/,
    )
  })

  it('has RE2’s syntax and semantics: a partial match, \\z, inline flags, POSIX classes', () => {
    const evaluate = (text: string) => compileExpression(text, 'bool').evaluate(context({ s: 'abc' }))
    expect(evaluate("event.attributes.s.matches('b')")).toBe(true)
    expect(evaluate("event.attributes.s.matches('^b')")).toBe(false)
    // In JavaScript `\z` is a literal `z`: `c\z` would not match "abc".
    expect(evaluate("event.attributes.s.matches('c\\\\z')")).toBe(true)
    expect(evaluate("event.attributes.s.matches('(?i)ABC')")).toBe(true)
    expect(evaluate("event.attributes.s.matches('^[[:alpha:]]+$')")).toBe(true)
  })

  it('runs on RE2 inside macros too', () => {
    const expression = compileExpression("event.changes.exists(c, c.path.matches('y\\\\z'))", 'bool')
    expect(expression.evaluate(context({}, [{ path: 'xy', new: 1 }]))).toBe(true)
    expect(expression.evaluate(context({}, [{ path: 'yz', new: 1 }]))).toBe(false)
  })

  it('refuses a pattern RE2 does not support when the expression is compiled, pointing at it', () => {
    const refusal = (text: string) => {
      try {
        compileExpression(text, 'bool')
      } catch (error) {
        if (error instanceof ExpressionError) return error.message
        throw error
      }
      throw new Error('expected a refusal')
    }
    expect(refusal("event.actor.id.matches('(a)\\\\1')")).toMatch(
      /^matches\(\): error parsing regexp: invalid escape sequence: `\\1` \(matches\(\) takes RE2 syntax: no backreferences, no lookahead or lookbehind\) \(at character 24 of the expression\)$/,
    )
    expect(refusal("event.actor.id.matches('^(?!admin)')")).toMatch(/unsupported Perl syntax: `\(\?!`/)
    expect(refusal("event.actor.id.matches('(?<=a)b')")).toMatch(/^matches\(\): /)
    // Type errors still name matches(), not the function it runs on.
    expect(refusal("'x'.matches(1)")).toMatch(/found no matching overload for 'string\.matches\(int\)'/)
  })

  it('a rules file with such a pattern is refused, naming the file, line, field and rule', () => {
    let caught: unknown
    try {
      parseRules(
        `rules:
  - id: admins-only
    kind: match
    severity: info
    filter: event.actor.id.matches("^(\\\\w+)-\\\\1$")
`,
        'deploy/alerting/rules.yaml',
      )
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(RulesConfigError)
    expect((caught as RulesConfigError).message).toMatch(
      /deploy\/alerting\/rules\.yaml:5:13: rules\[0\]\.filter \(rule admins-only\): CEL: matches\(\): error parsing regexp: invalid escape sequence: `\\1`/,
    )
  })

  it('regexMatches compiles a pattern once and refuses with PatternError', () => {
    expect(regexMatches('abc', 'b+')).toBe(true)
    expect(() => regexMatches('abc', '(?=b)')).toThrow(PatternError)
  })
})
