import { closeSync, openSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Crash points for the fault drills (after FreeBSD's and TiKV's failpoints): a named point in a
 * service where, when the drill armed it, the process SIGKILLs itself, so a crash lands inside
 * the exact window the drill is about (after the insert, before the dead letters) rather than
 * wherever a kill from outside happens to fall.
 *
 * Armed by `AUDIT_FAILPOINTS` (names, comma-separated) with `AUDIT_FAILPOINTS_DIR`: each point
 * fires once per drill, the first time it is reached by any process life; its marker file in
 * that directory says it fired, so the restarted service goes through. Unset (always, outside
 * the drills) a point costs one Set lookup.
 */
export type Failpoints = {
  /** SIGKILLs this process if `name` is armed and has not fired yet. */
  reach(name: string): void
  readonly armed: readonly string[]
}

export class FailpointsError extends Error {
  override name = 'FailpointsError'
  constructor(
    /** The setting at fault. */
    readonly setting: string,
    readonly problem: string,
  ) {
    super(`${setting}: ${problem}`)
  }
}

/** Reads the armed points; throws FailpointsError naming the setting when they cannot fire. */
export function failpointsFrom(
  env: Readonly<Record<string, string | undefined>>,
  known: readonly string[],
  kill: () => void = () => process.kill(process.pid, 'SIGKILL'),
): Failpoints {
  const armed = (env['AUDIT_FAILPOINTS'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  if (armed.length === 0) return { reach: () => undefined, armed }
  const unknown = armed.filter((name) => !known.includes(name))
  if (unknown.length > 0)
    throw new FailpointsError(
      'AUDIT_FAILPOINTS',
      `unknown failpoint ${unknown.join(', ')} (this service has ${known.join(', ') || 'none'})`,
    )
  const dir = env['AUDIT_FAILPOINTS_DIR']
  if (!dir) throw new FailpointsError('AUDIT_FAILPOINTS_DIR', 'must be set when AUDIT_FAILPOINTS is')
  const pending = new Set(armed)
  return {
    armed,
    reach(name) {
      if (!pending.has(name)) return
      pending.delete(name)
      try {
        // Created exclusively: only the first life to get here fires.
        closeSync(openSync(join(dir, `${name}.fired`), 'wx'))
      } catch {
        return
      }
      kill()
    },
  }
}
