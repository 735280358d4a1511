import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileGlob, compileValueMatcher, patternCovers } from './valuePattern.js'

/** What a glob means, said the slow way: a regular expression (tests only). */
const globRegExp = (glob: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  )

describe('compileGlob', () => {
  it.each([
    ['ticket.*', 'ticket.assign', true],
    ['ticket.*', 'ticket.a.b', true],
    ['ticket.*', 'ticket.', true],
    ['ticket.*', 'ticket', false],
    ['ticket.*', 'xticket.assign', false],
    ['*.delete', 'order-line.delete', true],
    ['*.delete', 'order-line.deleted', false],
    ['*', '', true],
    ['*', 'anything', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'a-b-b-c', true],
    ['a*b*c', 'acb', false],
    ['ab*ba', 'aba', false],
    ['a**b', 'ab', true],
    ['email.send', 'email.send', true],
    ['email.send', 'email.sent', false],
  ])('%s fits %s: %s', (glob, value, fits) => {
    expect(compileGlob(glob)(value)).toBe(fits)
  })

  it('agrees with the regular expression it stands for', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '.', '*'), maxLength: 8 })
    fc.assert(
      fc.property(text, fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 10 }), (glob, value) => {
        expect(compileGlob(glob)(value)).toBe(globRegExp(glob).test(value))
      }),
    )
  })

  it('stays linear on inputs that make backtracking matchers explode', () => {
    const value = 'a'.repeat(100_000)
    const started = performance.now()
    expect(compileGlob('*a*a*a*a*a*a*a*a*a*b')(value)).toBe(false)
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})

describe('compileValueMatcher', () => {
  it('accepts any of the values, exact or glob', () => {
    const fits = compileValueMatcher(['denied', 'fail*'])
    expect(['denied', 'failure', 'fail'].map(fits)).toEqual([true, true, true])
    expect(['success', 'Denied', ''].map(fits)).toEqual([false, false, false])
  })

  it('compares exact values whole and case-sensitively', () => {
    expect(compileValueMatcher(['security'])('security')).toBe(true)
    expect(compileValueMatcher(['security'])('security2')).toBe(false)
    expect(compileValueMatcher(['a', 'b'])('B')).toBe(false)
  })
})

describe('patternCovers', () => {
  it.each([
    [['business', 'security'], 'security', true],
    [['business'], 'security', false],
    [['ticket.*'], 'ticket.assign', true],
    [['ticket.*'], 'ticket.a*', true],
    [['ticket.*'], 'ticket*', false],
    [['*'], 'x*y', true],
    [['*.delete'], 'order*.delete', true],
    [['a*z'], 'ab*yz', true],
    [['a*z'], 'a*', false],
    [['a*b*c'], 'a*b*c', true],
    [['a*b*c'], 'ab*c', false],
  ])('%j covers %s: %s', (wide, narrow, covers) => {
    expect(patternCovers(wide, narrow)).toBe(covers)
  })

  it('never claims cover wrongly', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '*'), maxLength: 5 })
    const value = fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 8 })
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 2 }), text, value, (wide, narrow, sample) => {
        fc.pre(patternCovers(wide, narrow) && compileGlob(narrow)(sample))
        expect(compileValueMatcher(wide)(sample)).toBe(true)
      }),
    )
  })
})
