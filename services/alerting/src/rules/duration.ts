/** Units a rules file may write a duration in, with their length in ms. */
const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

const durationText = /^(\d+)(ms|s|m|h|d)$/

/**
 * `500ms`, `30s`, `5m`, `24h`, `7d`, or a whole number of ms. Undefined when the text is none of
 * these, so the schema can say what it expected.
 */
export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined
  const match = durationText.exec(value.trim())
  if (!match) return undefined
  const amount = Number(match[1])
  const ms = amount * unitMs[match[2] as keyof typeof unitMs]
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined
}
