import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { failpointsFrom } from './failpoints.js'

describe('failpoints', () => {
  it('fire once per drill, across process lives, and only where armed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'failpoints-'))
    const env = { AUDIT_FAILPOINTS: 'sink.a', AUDIT_FAILPOINTS_DIR: dir }
    const kills: string[] = []
    const first = failpointsFrom(env, ['sink.a', 'sink.b'], () => kills.push('first'))
    first.reach('sink.b')
    expect(kills).toEqual([])
    first.reach('sink.a')
    first.reach('sink.a')
    expect(kills).toEqual(['first'])
    expect(existsSync(join(dir, 'sink.a.fired'))).toBe(true)
    // The restarted service reads the same setting: the point already fired.
    const second = failpointsFrom(env, ['sink.a', 'sink.b'], () => kills.push('second'))
    second.reach('sink.a')
    expect(kills).toEqual(['first'])
  })

  it('are inert when unset', () => {
    const points = failpointsFrom({}, ['sink.a'], () => {
      throw new Error('must not fire')
    })
    points.reach('sink.a')
    expect(points.armed).toEqual([])
  })

  it('refuse an unknown name or a missing marker directory, naming the setting', () => {
    expect(() =>
      failpointsFrom({ AUDIT_FAILPOINTS: 'sink.typo', AUDIT_FAILPOINTS_DIR: '/x' }, ['sink.a']),
    ).toThrow('AUDIT_FAILPOINTS: unknown failpoint sink.typo (this service has sink.a)')
    expect(() => failpointsFrom({ AUDIT_FAILPOINTS: 'sink.a' }, ['sink.a'])).toThrow(
      'AUDIT_FAILPOINTS_DIR: must be set when AUDIT_FAILPOINTS is',
    )
  })
})
