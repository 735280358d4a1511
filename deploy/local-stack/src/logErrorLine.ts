/** Longest error line shown in the terminal and the status table. */
const maxLength = 300

/** Stack frames and their continuations: never the line that says what went wrong. */
const stackFrame = /^\s+(at |\.\.\. \d+ more)|^\s*\^+\s*$/

/** Plain-text lines that report an error: log4j levels (the JVMs), Node's uncaught errors, Java exceptions. */
const plainError = /\b(ERROR|FATAL|SEVERE)\b|^(\w+\.)*\w*(Error|Exception)\b|^Exception in thread /

const errorLevels = new Set(['error', 'fatal', 50, 60])

/**
 * The last line of a log that reads as an error, shortened, or undefined when there is none.
 * Services log pino JSON (`{"level":"error","msg":…,"err":{"message":…}}`): such a line is shown as
 * its message and its error's message. JVM and Node output is plain text.
 */
export function lastErrorLine(logText: string): string | undefined {
  const lines = logText.split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim()
    if (line === '' || stackFrame.test(lines[i]!)) continue
    const shown = line.startsWith('{') ? jsonErrorLine(line) : plainError.test(line) ? line : undefined
    if (shown !== undefined) return shown.length > maxLength ? `${shown.slice(0, maxLength - 1)}…` : shown
  }
  return undefined
}

function jsonErrorLine(line: string): string | undefined {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return plainError.test(line) ? line : undefined
  }
  if (!errorLevels.has(entry['level'] as string)) return undefined
  const msg = typeof entry['msg'] === 'string' ? entry['msg'] : ''
  const cause = causeOf(entry) ?? ''
  if (!cause || msg.includes(cause)) return msg || cause || line
  return msg ? `${msg}: ${cause}` : cause
}

/**
 * The error's own message: pino's `err.message`, an `error` field, or one a level down, where
 * kafkajs's lines carry it (`"kafkajs":{"error":"The group coordinator is not available"}`).
 */
function causeOf(entry: Record<string, unknown>, depth = 0): string | undefined {
  for (const key of ['err', 'error']) {
    const value = entry[key]
    if (typeof value === 'string') return value
    if (typeof value === 'object' && value !== null) {
      const message = (value as Record<string, unknown>)['message']
      if (typeof message === 'string') return message
    }
  }
  if (depth > 0) return undefined
  for (const value of Object.values(entry)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue
    const nested = causeOf(value as Record<string, unknown>, depth + 1)
    if (nested !== undefined) return nested
  }
  return undefined
}
