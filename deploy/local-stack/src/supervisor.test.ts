import { describe, expect, it } from 'vitest'
import type { ExitStatus, LaunchedProcess } from './processes.js'
import { defaultRestartPolicy } from './restartPolicy.js'
import { createSupervisor, type SupervisorClock } from './supervisor.js'

/** Time that moves only when the test says so. */
function fakeClock() {
  let now = 0
  let timers: { at: number; run: () => void }[] = []
  const clock: SupervisorClock = {
    now: () => now,
    setTimeout: (run, delayMs) => {
      const timer = { at: now + delayMs, run }
      timers.push(timer)
      return timer
    },
    clearTimeout: (timer) => void (timers = timers.filter((t) => t !== timer)),
  }
  return {
    clock,
    pending: () => timers.length,
    /** Moves time on by `ms`, running the timers that fall due. */
    advance(ms: number) {
      now += ms
      const due = timers.filter((t) => t.at <= now)
      timers = timers.filter((t) => t.at > now)
      for (const timer of due) timer.run()
    },
  }
}

/** Processes that end when the test says so; PIDs from 100 up. */
function fakeProcesses() {
  let nextPid = 100
  const ends = new Map<number, (exit: ExitStatus) => void>()
  return {
    start(): LaunchedProcess {
      const pid = nextPid++
      const exited = new Promise<ExitStatus>((resolve) => ends.set(pid, resolve))
      return { pid, logFile: `/logs/${pid}.log`, launch: { command: 'x', args: [], cwd: '/' }, exited }
    },
    async end(pid: number, exit: ExitStatus) {
      ends.get(pid)!(exit)
      // Let the supervisor's exit handler (a promise continuation) run.
      await new Promise((resolve) => setImmediate(resolve))
    },
  }
}

function setUp(policy = defaultRestartPolicy, wanted = () => true) {
  const time = fakeClock()
  const processes = fakeProcesses()
  const lines: string[] = []
  const writes: string[][] = []
  const supervisor = createSupervisor({
    policy,
    clock: time.clock,
    report: (line) => lines.push(line),
    onChange: (statuses) => writes.push(statuses.map((s) => `${s.name}:${s.state}:${s.pid ?? '-'}`)),
    errorLineOf: () => 'fatal: KafkaJSNumberOfRetriesExceeded',
  })
  const spec = { name: 'alerting', logFile: '/logs/alerting.log', restart: () => processes.start(), wanted }
  return { time, processes, lines, writes, supervisor, spec }
}

describe('the supervisor', () => {
  it('restarts a process that exited, after the backoff, and says so with the last error line', async () => {
    const { time, processes, lines, supervisor, spec } = setUp()
    supervisor.watch(spec, processes.start())

    time.advance(5_000)
    await processes.end(100, { code: 1, signal: null })
    expect(lines).toEqual([
      'alerting (pid 100) exited with code 1; restart 1 in 1 s; last error: fatal: KafkaJSNumberOfRetriesExceeded',
    ])
    expect(supervisor.statuses()[0]).toMatchObject({
      state: 'restarting',
      restarts: 0,
      nextRestartAt: '1970-01-01T00:00:06.000Z',
    })
    expect(supervisor.pidOf('alerting')).toBeUndefined()

    time.advance(999)
    expect(supervisor.pidOf('alerting')).toBeUndefined()
    time.advance(1)
    expect(supervisor.pidOf('alerting')).toBe(101)
    expect(lines[1]).toBe('alerting restarted as pid 101 (restart 1)')
    expect(supervisor.statuses()[0]).toEqual({
      name: 'alerting',
      state: 'running',
      pid: 101,
      restarts: 1,
      logFile: '/logs/101.log',
      lastExit: { code: 1, signal: null, at: '1970-01-01T00:00:05.000Z' },
      lastErrorLine: 'fatal: KafkaJSNumberOfRetriesExceeded',
    })
  })

  it('waits longer after each quick exit in a row, up to 30 s, and names the signal', async () => {
    const { time, processes, lines, supervisor, spec } = setUp()
    supervisor.watch(spec, processes.start())
    const waits: string[] = []
    for (let i = 0; i < 7; i++) {
      await processes.end(supervisor.pidOf('alerting')!, { code: null, signal: 'SIGKILL' })
      waits.push(/restart \d+ in ([\d.]+ s)/.exec(lines.at(-1)!)![1]!)
      time.advance(30_000)
    }
    expect(waits).toEqual(['1 s', '2 s', '4 s', '8 s', '16 s', '30 s', '30 s'])
    expect(lines[0]).toContain('alerting (pid 100) was killed by SIGKILL; restart 1 in 1 s')
    expect(supervisor.statuses()[0]?.restarts).toBe(7)
  })

  it('gives up only when told to, and says so', async () => {
    const { time, processes, lines, supervisor, spec } = setUp({
      ...defaultRestartPolicy,
      maxConsecutiveRestarts: 1,
    })
    supervisor.watch(spec, processes.start())
    await processes.end(100, { code: 1, signal: null })
    time.advance(1_000)
    await processes.end(101, { code: 1, signal: null })
    expect(lines.at(-1)).toBe(
      'alerting (pid 101) exited with code 1; not restarting it: it exited 2 times in a row within 60 s of starting (limit 1, AUDIT_STACK_MAX_RESTARTS); last error: fatal: KafkaJSNumberOfRetriesExceeded',
    )
    expect(supervisor.statuses()[0]).toMatchObject({ state: 'gave up', restarts: 1 })
    expect(time.pending()).toBe(0)
  })

  it('restarts nothing once stopped: exits during shutdown are expected, pending restarts are cancelled', async () => {
    const { time, processes, lines, writes, supervisor, spec } = setUp()
    supervisor.watch(spec, processes.start())
    supervisor.watch({ ...spec, name: 'forwarder' }, processes.start())
    await processes.end(100, { code: 1, signal: null })
    expect(time.pending()).toBe(1)

    supervisor.stop()
    await processes.end(101, { code: 0, signal: 'SIGTERM' })
    time.advance(60_000)

    expect(time.pending()).toBe(0)
    expect(lines).toHaveLength(1)
    expect(writes.at(-1)).toEqual(['alerting:stopped:-', 'forwarder:running:101'])
  })

  it('does not restart a process whose stack was stopped elsewhere', async () => {
    const { processes, lines, supervisor, spec } = setUp(defaultRestartPolicy, () => false)
    supervisor.watch(spec, processes.start())
    await processes.end(100, { code: 143, signal: null })
    expect(lines[0]).toMatch(/^alerting \(pid 100\) exited with code 143; its stack was stopped meanwhile/)
    expect(supervisor.statuses()[0]?.state).toBe('stopped')
  })

  it('treats a restart that cannot start as another quick exit', async () => {
    const { time, processes, lines, supervisor, spec } = setUp()
    let failures = 1
    supervisor.watch(
      {
        ...spec,
        restart: () => {
          if (failures-- > 0) throw new Error('port 9092 is taken')
          return processes.start()
        },
      },
      processes.start(),
    )
    await processes.end(100, { code: 1, signal: null })
    time.advance(1_000)
    expect(lines[1]).toBe('alerting could not be restarted; restart 2 in 2 s: port 9092 is taken')
    time.advance(2_000)
    expect(supervisor.pidOf('alerting')).toBe(101)
  })
})
