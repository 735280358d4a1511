import { ApiKeysError } from './apiKeysError.js'
import { isoTimeRule, parseIsoTime } from './isoTime.js'

const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const

export const expiryRule = `a duration such as 30d, 12h or 90m, or ${isoTimeRule}`

/**
 * When a key made at `nowMs` expires: `30d`, `12h`, `90m` from now, or an ISO-8601 time with its
 * zone. Throws ApiKeysError (KEY_REQUEST_INVALID) saying what is accepted, or that the time is past.
 */
export function expiresAtFrom(spec: string, nowMs: number): Date {
  const text = spec.trim()
  const duration = /^(\d{1,6})([mhd])$/.exec(text)
  if (duration) {
    const [, count = '', unit = 'd'] = duration
    if (Number(count) === 0) {
      throw new ApiKeysError('KEY_REQUEST_INVALID', `expected a duration above zero; got '${spec}'`)
    }
    return new Date(nowMs + Number(count) * unitMs[unit as keyof typeof unitMs])
  }
  const time = parseIsoTime(text)
  if (time === undefined) {
    throw new ApiKeysError('KEY_REQUEST_INVALID', `expected ${expiryRule}; got '${spec}'`)
  }
  if (time.getTime() <= nowMs) {
    throw new ApiKeysError(
      'KEY_REQUEST_INVALID',
      `${time.toISOString()} is already past: a key that expires must expire in the future`,
    )
  }
  return time
}
