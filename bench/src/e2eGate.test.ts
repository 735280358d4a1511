import { describe, expect, it } from 'vitest'
import { correctnessGate, gateLines, type GateStage } from './e2eGate.js'

const owed = (...ids: string[]) => ids.map((eventId, sequence) => ({ eventId, key: 'k', sequence }))
const held = (...ids: string[]) => ids.map((eventId) => ({ eventId }))

const stage = (contract: GateStage['contract'], observed: string[]): GateStage => ({
  name: 'stage',
  contract,
  expected: owed('a', 'b', 'c'),
  observed: held(...observed),
})

describe('correctnessGate', () => {
  it('passes when every stage holds what it is owed', () => {
    const result = correctnessGate(
      [stage('exactly once', ['c', 'a', 'b']), stage('at least once', ['a', 'b', 'c'])],
      0,
    )
    expect(result.passed).toBe(true)
    expect(gateLines(result)).toEqual([
      '  ok     stage (exactly once): owed 3, holds 3; lost 0, duplicated 0, unexpected 0',
      '  ok     stage (at least once): owed 3, holds 3; lost 0, unexpected 0',
    ])
  })

  it('fails on a lost event, naming it', () => {
    const result = correctnessGate([stage('at least once', ['a', 'b'])], 0)
    expect(result.passed).toBe(false)
    expect(gateLines(result)).toEqual([
      '  FAILED stage (at least once): owed 3, holds 2; lost 1, unexpected 0; lost ids include c',
    ])
  })

  it('fails on an event nobody sent', () => {
    expect(correctnessGate([stage('at least once', ['a', 'b', 'c', 'x'])], 0).passed).toBe(false)
  })

  it('fails on a second copy where the stage promises exactly once, and only there', () => {
    const twice = ['a', 'b', 'c', 'a']
    expect(correctnessGate([stage('exactly once', twice)], 0).passed).toBe(false)
    const repeated = correctnessGate([stage('at least once', twice)], 0)
    expect(repeated.passed).toBe(true)
    expect(gateLines(repeated)[0]).toMatch(/lost 0 \(repeats allowed: 1\), unexpected 0$/)
  })

  it('fails when producers could not send everything, and says so first', () => {
    const result = correctnessGate([stage('exactly once', ['a', 'b', 'c'])], 2)
    expect(result.passed).toBe(false)
    expect(gateLines(result)[0]).toBe('  FAILED producers: 2 events could not be sent (not counted as owed)')
  })
})
