import { describe, expect, it } from 'vitest'
import { decideRestart, defaultRestartPolicy, noRestartsYet, type RestartRecord } from './restartPolicy.js'

const policy = defaultRestartPolicy
const quick = { startedAtMs: 0, exitedAtMs: 500 }

/** Exits `n` times in a row, each right after starting; the delays chosen. */
function quickExits(n: number, record: RestartRecord = noRestartsYet) {
  const delays: number[] = []
  for (let i = 0; i < n; i++) {
    const decision = decideRestart(policy, record, quick)
    if (decision.action !== 'restart') throw new Error(`gave up at exit ${i + 1}`)
    delays.push(decision.delayMs)
    record = decision.record
  }
  return { delays, record }
}

describe('decideRestart', () => {
  it('doubles the wait for each quick exit in a row, from 1 s up to 30 s', () => {
    const { delays, record } = quickExits(8)
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000])
    expect(record).toEqual({ restarts: 8, quickExitsInARow: 8 })
  })

  it('starts again from 1 s once a run has stayed up for a minute', () => {
    const { record } = quickExits(5)
    const decision = decideRestart(policy, record, { startedAtMs: 10_000, exitedAtMs: 70_000 })
    expect(decision).toEqual({
      action: 'restart',
      delayMs: 1_000,
      record: { restarts: 6, quickExitsInARow: 0 },
    })
    // And the next quick exit after that is the first of a new series.
    expect(decideRestart(policy, decision.record, quick)).toMatchObject({ delayMs: 1_000 })
  })

  it('never gives up by default, and stays at the cap after many exits', () => {
    const { delays } = quickExits(2_000)
    expect(delays.at(-1)).toBe(30_000)
  })

  it('gives up after the configured number of quick exits in a row, saying why', () => {
    const limited = { ...policy, maxConsecutiveRestarts: 3 }
    let record = noRestartsYet
    for (let i = 0; i < 3; i++) {
      const decision = decideRestart(limited, record, quick)
      expect(decision.action).toBe('restart')
      record = decision.record
    }
    const last = decideRestart(limited, record, quick)
    expect(last.action).toBe('give up')
    expect(last.action === 'give up' && last.reason).toBe(
      'it exited 4 times in a row within 60 s of starting (limit 3, AUDIT_STACK_MAX_RESTARTS)',
    )
    expect(last.record.restarts).toBe(3)
  })

  it('does not count a stable run against the limit', () => {
    const limited = { ...policy, maxConsecutiveRestarts: 1 }
    const first = decideRestart(limited, noRestartsYet, quick)
    const stable = decideRestart(limited, first.record, { startedAtMs: 0, exitedAtMs: 3_600_000 })
    expect(stable.action).toBe('restart')
    expect(decideRestart(limited, stable.record, quick).action).toBe('restart')
  })
})
