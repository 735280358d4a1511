import { hostname } from 'node:os'
import { pino, type DestinationStream, type Logger } from 'pino'

export type { Logger }

/** pino's levels, most to least severe; `silent` turns logging off. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof logLevels)[number]

export type LoggerOptions = {
  /** Written on every line, so lines from all services can share one index. */
  service: string
  level: LogLevel
  /** Where JSON lines go; stdout when unset. Tests pass `{ write(line) { … } }`. */
  destination?: DestinationStream
}

/** A pino logger writing one JSON object per line with `service`, an ISO `time` and the level's name. */
export function createLogger({ service, level, destination }: LoggerOptions): Logger {
  const options = {
    level,
    // `base` replaces pino's default bindings, so pid and hostname are listed again beside `service`.
    base: { service, pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    // `"level":"warn"` rather than pino's `"level":40`: log stores and people filter by name.
    formatters: { level: (label: string) => ({ level: label }) },
  }
  return destination ? pino(options, destination) : pino(options)
}
