import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { EventInvalidError } from '@audit-pipeline/event-model'

export type Rejection = { line: number; reason: string }

export type ProduceSummary = {
  lines: number
  sent: number
  rejected: Rejection[]
  /** Valid events Kafka did not take (after the producer's retries). */
  failed: Rejection[]
}

export type ProduceProgress = Pick<ProduceSummary, 'lines' | 'sent'> & { rejected: number; failed: number }

/**
 * Sends every line of NDJSON input as one event through `send` (the SDK's `generic`), keeping at
 * most `maxInFlight` unacknowledged so a long file streams in constant memory. Blank lines are
 * skipped; a line that is not JSON or not a valid event is rejected with its number and reason.
 */
export async function produceLines(
  input: Readable,
  send: (event: unknown) => Promise<unknown>,
  options: {
    maxInFlight?: number
    onProgress?: (progress: ProduceProgress) => void
    progressEveryMs?: number
  } = {},
): Promise<ProduceSummary> {
  const maxInFlight = options.maxInFlight ?? 10_000
  const summary: ProduceSummary = { lines: 0, sent: 0, rejected: [], failed: [] }
  let inFlight = 0
  let roomFreed: (() => void) | undefined
  let allSettled: (() => void) | undefined
  let lastProgress = Date.now()

  const reportProgress = () => {
    options.onProgress?.({
      lines: summary.lines,
      sent: summary.sent,
      rejected: summary.rejected.length,
      failed: summary.failed.length,
    })
  }

  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    const line = ++summary.lines
    if (text.trim() === '') continue
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      summary.rejected.push({ line, reason: `not JSON: ${(error as Error).message}` })
      continue
    }
    const pending = send(parsed).then(
      () => void summary.sent++,
      (error: unknown) => {
        if (error instanceof EventInvalidError) {
          summary.rejected.push({
            line,
            reason: error.problems.map((p) => `${p.field}: ${p.message}`).join('; '),
          })
        } else {
          summary.failed.push({ line, reason: (error as Error).message })
        }
      },
    )
    inFlight++
    void pending.finally(() => {
      inFlight--
      roomFreed?.()
      if (inFlight === 0) allSettled?.()
    })
    if (inFlight >= maxInFlight) await new Promise<void>((resolve) => (roomFreed = resolve))
    roomFreed = undefined
    if (options.onProgress && Date.now() - lastProgress >= (options.progressEveryMs ?? 1_000)) {
      lastProgress = Date.now()
      reportProgress()
    }
  }
  if (inFlight > 0) await new Promise<void>((resolve) => (allSettled = resolve))
  summary.rejected.sort((a, b) => a.line - b.line)
  summary.failed.sort((a, b) => a.line - b.line)
  return summary
}
