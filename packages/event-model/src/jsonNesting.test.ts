import { describe, expect, it } from 'vitest'
import { eventNestingProblem, jsonNestingBeyond, maxJsonNestingDepth } from './jsonNesting.js'
import { JsonValueError } from './jsonValueError.js'
import { parseJsonText } from './jsonValueParse.js'

const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`

describe('jsonNestingBeyond', () => {
  it('finds where objects and arrays first nest past the limit, in text or UTF-8 bytes', () => {
    expect(jsonNestingBeyond(nested(3), 3)).toBeUndefined()
    expect(jsonNestingBeyond(nested(4), 3)).toBe(3)
    expect(jsonNestingBeyond('{"a":{"b":[{}]}}', 3)).toBe(11)
    expect(jsonNestingBeyond(Buffer.from(`{"é":${nested(4)}}`), 4)).toBe(9)
    // 200,000 levels: no recursion, so no stack to overflow.
    expect(jsonNestingBeyond(nested(200_000), maxJsonNestingDepth)).toBe(maxJsonNestingDepth)
  })

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(jsonNestingBeyond('["[[[[", "\\"[[[[", "\\\\", []]', 2)).toBeUndefined()
    expect(jsonNestingBeyond('["\\\\", [[]]]', 2)).toBe(8)
  })
})

describe('parseJsonText', () => {
  it('refuses text nested past the limit before walking it, naming the field', () => {
    expect(() => parseJsonText(nested(maxJsonNestingDepth), 'after')).not.toThrow()
    const tooDeep = () => parseJsonText(nested(6_000), 'after')
    expect(tooDeep).toThrow(JsonValueError)
    expect(tooDeep).toThrow(
      `after nests objects and arrays more than ${maxJsonNestingDepth} levels deep (at offset 64)`,
    )
  })
})

describe('eventNestingProblem', () => {
  it('names the snapshot or change value nested too deep', () => {
    const change = { path: 'x', old_value: '1', new_value: nested(6_000), value_type: 'array' as const }
    expect(eventNestingProblem({ before: '{"a":1}', after: null, changes: [] })).toBeUndefined()
    expect(eventNestingProblem({ before: `{"a":${nested(6_000)}}`, after: null, changes: [] })).toMatch(
      /^before nests objects and arrays more than 64 levels deep/,
    )
    expect(eventNestingProblem({ before: null, after: null, changes: [change] })).toMatch(
      /^changes\[0\]\.new_value nests/,
    )
  })
})
