import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.js'

function captureLines() {
  const lines: Record<string, unknown>[] = []
  return {
    lines,
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  }
}

describe('createLogger', () => {
  it('writes one JSON line per call with the service, an ISO time and the level name', () => {
    const { lines, destination } = captureLines()
    const log = createLogger({ service: 'normalizer', level: 'info', destination })
    log.info({ partition: 3 }, 'batch written')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      service: 'normalizer',
      level: 'info',
      partition: 3,
      msg: 'batch written',
    })
    expect(lines[0]?.['time']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(lines[0]?.['pid']).toBe(process.pid)
  })

  it('keeps the service on child loggers', () => {
    const { lines, destination } = captureLines()
    createLogger({ service: 'sink', level: 'info', destination }).child({ table: 'events' }).warn('slow')
    expect(lines[0]).toMatchObject({ service: 'sink', table: 'events', level: 'warn' })
  })

  it('drops lines below the level, and everything when silent', () => {
    const { lines, destination } = captureLines()
    const log = createLogger({ service: 's', level: 'warn', destination })
    log.info('not written')
    log.error('written')
    createLogger({ service: 's', level: 'silent', destination }).fatal('not written either')
    expect(lines.map((line) => line['msg'])).toEqual(['written'])
  })

  it('serializes errors under err with their message and stack', () => {
    const { lines, destination } = captureLines()
    createLogger({ service: 's', level: 'info', destination }).error(
      { err: new Error('broker gone') },
      'failed',
    )
    expect(lines[0]?.['err']).toMatchObject({ type: 'Error', message: 'broker gone' })
    expect((lines[0]?.['err'] as { stack: string }).stack).toContain('logger.test.ts')
  })
})
