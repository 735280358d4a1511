import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { createLogger } from './logger.js'
import { handleSignals, type SignalHandlers } from './signals.js'

function deferred() {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

function setup(handlers: Partial<Pick<SignalHandlers, 'stop' | 'reload'>> = {}) {
  const lines: Record<string, unknown>[] = []
  const log = createLogger({
    service: 'test',
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  })
  const target = new EventEmitter()
  const exit = vi.fn<(code: number) => void>()
  const stop = vi.fn(handlers.stop ?? (() => Promise.resolve()))
  const dispose = handleSignals({ ...handlers, stop, log, target, exit })
  const logged = (level: string) => lines.filter((line) => line['level'] === level).map((line) => line['msg'])
  return { target, exit, stop, dispose, lines, logged }
}

describe('handleSignals', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops once on %s, then exits 0', async (signal) => {
    const stopping = deferred()
    const { target, exit, stop } = setup({ stop: () => stopping.promise })
    target.emit(signal)
    await vi.waitFor(() => expect(stop).toHaveBeenCalledWith(signal))
    expect(exit).not.toHaveBeenCalled()

    stopping.resolve()
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0))
    expect(stop).toHaveBeenCalledTimes(1)
  })

  it('exits 1 at once on a second signal while stopping', async () => {
    const stopping = deferred()
    const { target, exit, stop, logged } = setup({ stop: () => stopping.promise })
    target.emit('SIGTERM')
    await vi.waitFor(() => expect(stop).toHaveBeenCalledTimes(1))
    target.emit('SIGINT')
    expect(exit).toHaveBeenCalledWith(1)
    expect(logged('warn')).toEqual(['signal received while stopping: exiting now without finishing'])

    // The first stop finishing later must not exit a second time.
    stopping.resolve()
    await vi.waitFor(() => expect(logged('info')).toContain('stopped'))
    expect(exit.mock.calls).toEqual([[1]])
    expect(stop).toHaveBeenCalledTimes(1)
  })

  it('exits 1 and logs the error when stopping fails', async () => {
    const { target, exit, lines } = setup({ stop: () => Promise.reject(new Error('commit failed')) })
    target.emit('SIGTERM')
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1))
    const failure = lines.find((line) => line['msg'] === 'stopping failed')
    expect(failure).toMatchObject({ level: 'error', signal: 'SIGTERM', err: { message: 'commit failed' } })
  })

  it('exits 1 when stop throws synchronously', async () => {
    const { target, exit } = setup({
      stop: () => {
        throw new Error('not started')
      },
    })
    target.emit('SIGINT')
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1))
  })

  it('runs reloads one at a time, folding SIGHUPs during a reload into one more', async () => {
    const runs: ReturnType<typeof deferred>[] = []
    const reload = vi.fn(() => {
      const run = deferred()
      runs.push(run)
      return run.promise
    })
    const { target, logged, exit } = setup({ reload })

    target.emit('SIGHUP')
    await vi.waitFor(() => expect(reload).toHaveBeenCalledTimes(1))
    target.emit('SIGHUP')
    target.emit('SIGHUP')
    expect(reload).toHaveBeenCalledTimes(1)

    runs[0]?.resolve()
    await vi.waitFor(() => expect(reload).toHaveBeenCalledTimes(2))
    runs[1]?.resolve()
    await vi.waitFor(() => expect(logged('info').filter((msg) => msg === 'reloaded')).toHaveLength(2))
    // The loop decides on another run right after logging 'reloaded', so a third would exist by now.
    expect(reload).toHaveBeenCalledTimes(2)

    target.emit('SIGHUP')
    expect(reload).toHaveBeenCalledTimes(3)
    expect(exit).not.toHaveBeenCalled()
  })

  it('keeps running after a failed reload, and reloads again on the next SIGHUP', async () => {
    const reload = vi
      .fn<() => Promise<void>>()
      .mockRejectedValueOnce(new Error('bad rules file'))
      .mockImplementationOnce(() => {
        throw new Error('thrown synchronously')
      })
      .mockResolvedValue(undefined)
    const { target, exit, logged } = setup({ reload })

    target.emit('SIGHUP')
    await vi.waitFor(() => expect(logged('error')).toHaveLength(1))
    target.emit('SIGHUP')
    await vi.waitFor(() => expect(logged('error')).toHaveLength(2))
    target.emit('SIGHUP')
    await vi.waitFor(() => expect(logged('info')).toContain('reloaded'))

    expect(reload).toHaveBeenCalledTimes(3)
    expect(logged('error')).toEqual([
      'reload failed: still running with the previous state',
      'reload failed: still running with the previous state',
    ])
    expect(exit).not.toHaveBeenCalled()
  })

  it('logs and ignores SIGHUP when there is nothing to reload', () => {
    const { target, exit, stop, logged } = setup()
    target.emit('SIGHUP')
    expect(logged('warn')).toEqual(['SIGHUP ignored: this service has nothing to reload'])
    expect(stop).not.toHaveBeenCalled()
    expect(exit).not.toHaveBeenCalled()
  })

  it('lets a running reload finish before stopping, and drops the reload queued behind it', async () => {
    const reloading = deferred()
    const reload = vi.fn(() => reloading.promise)
    const { target, stop, exit } = setup({ reload })
    target.emit('SIGHUP')
    target.emit('SIGHUP')
    target.emit('SIGTERM')
    target.emit('SIGHUP')
    await Promise.resolve()
    expect(stop).not.toHaveBeenCalled()

    reloading.resolve()
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0))
    expect(stop).toHaveBeenCalledTimes(1)
    expect(reload).toHaveBeenCalledTimes(1)
  })

  it('removes its listeners when disposed', () => {
    const { target, dispose, stop } = setup({ reload: () => undefined })
    expect(target.eventNames().sort()).toEqual(['SIGHUP', 'SIGINT', 'SIGTERM'])
    dispose()
    expect(target.eventNames()).toEqual([])
    target.emit('SIGTERM')
    expect(stop).not.toHaveBeenCalled()
  })

  it('listens on process by default', () => {
    const before = process.listenerCount('SIGHUP')
    const dispose = handleSignals({
      stop: () => undefined,
      log: createLogger({ service: 'test', level: 'silent' }),
    })
    expect(process.listenerCount('SIGHUP')).toBe(before + 1)
    dispose()
    expect(process.listenerCount('SIGHUP')).toBe(before)
  })
})
