import { setTimeout as sleep } from 'node:timers/promises'
import type { CpuSnapshot, NamedProcess } from './cpuAccounting.js'
import { takeCpuSnapshot } from './cpuSnapshot.js'
import { e2eAlertRule, type E2eExpectation } from './e2eEvents.js'
import type { E2ePipeline } from './e2ePipeline.js'
import type { E2eProducers, ProducerDone } from './e2eProducers.js'
import { followFile } from './fileTail.js'
import { addInboxLine, alertedEvents, createInboxTally } from './inboxDeliveries.js'

/** Seconds after the first produce at which each stage held everything it was owed; undefined: never. */
export type StageTimes = { produced?: number; queryable?: number; forwarded?: number; alerted?: number }

export type E2eRunResult = {
  reports: ProducerDone[]
  expectation: E2eExpectation
  times: StageTimes
  /** From the first produce until every stage was done (or the wait gave up), seconds. */
  seconds: number
  /** Why the wait gave up before every stage was done; undefined when they all were. */
  gaveUp?: string
  cpu: { before: CpuSnapshot; after: CpuSnapshot }
}

/**
 * The measured run: the producers start together and the stages are watched until each holds
 * what it is owed: the analysts' view every acknowledged event (the query API, asked every
 * `pollMs` once the producers are done and the sink's counter has the rows), the webhook inbox
 * every forwarded event and an alert of the rule for each alerting event. Gives up when nothing
 * moved for `stallMs` after the producers were done; throws when they were not done after
 * `produceTimeoutMs`. CPU time is read just before the start and once every stage is done; the
 * producers stay up until then. (The gate reads the inbox's log again once the pipeline is
 * stopped: this tally only times the stages.)
 */
export async function runE2e(options: {
  pipeline: E2ePipeline
  producers: E2eProducers
  tenant: string
  /** Everything to account for, read at both ends of the window. */
  processes: () => NamedProcess[]
  /** What the stages owe, given the ids of the events whose send failed. */
  expectationFor: (failed: ReadonlySet<string>) => E2eExpectation
  stallMs?: number
  produceTimeoutMs?: number
  /** How often the sink's counter (and then the query API) is asked. */
  pollMs?: number
}): Promise<E2eRunResult> {
  const { pipeline, producers, stallMs = 60_000, produceTimeoutMs = 30 * 60_000, pollMs = 200 } = options
  const tally = createInboxTally()
  const inbox = followFile(pipeline.webhookLog)
  const forwarded = new Set<string>()
  const alerted = new Set<string>()
  const times: StageTimes = {}
  let reports: ProducerDone[] | undefined
  let expectation: E2eExpectation | undefined
  let queryable = 0
  let inserted = 0
  let lastAskedAt = 0
  let lastError: string | undefined
  let progress = ''
  let progressAt = performance.now()
  let gaveUp: string | undefined

  const before = takeCpuSnapshot(options.processes())
  const started = performance.now()
  const elapsed = () => (performance.now() - started) / 1000
  producers.start()
  try {
    for (;;) {
      for (const line of inbox.newLines()) addInboxLine(tally, line)
      for (let i = forwarded.size; i < tally.forwarded.length; i++) forwarded.add(tally.forwarded[i]!.eventId)
      for (const { eventId } of alertedEvents(tally, e2eAlertRule)) alerted.add(eventId)

      if (!reports) {
        reports = producers.finished()
        if (reports) {
          times.produced = elapsed()
          expectation = options.expectationFor(new Set(reports.flatMap((report) => report.failed)))
        } else if (elapsed() * 1000 > produceTimeoutMs) {
          throw new Error(`the producers were not done after ${produceTimeoutMs / 1000} s`)
        }
      }
      if (expectation) {
        // The sink's counter first (cheap), the query API once the rows may all be there: an SQL
        // query is work for the sink's process, which is being measured.
        if (times.queryable === undefined && performance.now() - lastAskedAt >= pollMs) {
          lastAskedAt = performance.now()
          try {
            inserted = await pipeline.sinkRowsInserted()
            if (inserted >= expectation.stored.length) {
              queryable = await pipeline.queryableEvents(options.tenant)
            }
            lastError = undefined
          } catch (error) {
            lastError = error instanceof Error ? error.message : String(error)
          }
          if (queryable >= expectation.stored.length) times.queryable = elapsed()
        }
        if (times.forwarded === undefined && forwarded.size >= expectation.forwarded.length) {
          times.forwarded = elapsed()
        }
        if (times.alerted === undefined && alerted.size >= expectation.alerting.length) {
          times.alerted = elapsed()
        }
        if (times.queryable !== undefined && times.forwarded !== undefined && times.alerted !== undefined) {
          break
        }

        const now = `${inserted} ${queryable} ${forwarded.size} ${alerted.size}`
        if (now !== progress) {
          progress = now
          progressAt = performance.now()
        } else if (performance.now() - progressAt > stallMs) {
          gaveUp =
            `nothing moved for ${stallMs / 1000} s: queryable ${queryable} of ${expectation.stored.length} ` +
            `(the sink inserted ${inserted} event rows, every tenant's), ` +
            `forwarded ${forwarded.size} of ${expectation.forwarded.length}, ` +
            `alerted ${alerted.size} of ${expectation.alerting.length}` +
            (lastError ? `; last error asking: ${lastError}` : '')
          break
        }
      }
      await sleep(20)
    }
    const seconds = elapsed()
    const after = takeCpuSnapshot(options.processes())
    return {
      reports: reports!,
      expectation,
      times,
      seconds,
      ...(gaveUp !== undefined && { gaveUp }),
      cpu: { before, after },
    }
  } finally {
    inbox.close()
  }
}
