import { auditTables } from '@audit-pipeline/clickhouse-schema'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { SinkTelemetry } from './delivery/sinkSteps.js'
import type { SinkMetrics } from './metrics.js'

/** What readiness reports about ClickHouse, kept by the telemetry. */
export type SinkHealth = {
  /** A ClickHouse call is being retried: the sink is not ready. */
  readonly clickhouseUnavailable: boolean
  /** An insert is in progress. */
  readonly writing: boolean
}

/**
 * The sink's telemetry: each event both counts and logs, so the metrics and the log lines cannot
 * disagree (one call per batch written), and keeps the ClickHouse health readiness reports.
 */
export function createSinkTelemetry(
  metrics: SinkMetrics,
  log: Logger,
): { telemetry: SinkTelemetry; health: SinkHealth } {
  const health = { clickhouseUnavailable: false, writing: false }
  const telemetry: SinkTelemetry = {
    clickhouseRetry(operation, error, attempt, delayMs) {
      health.clickhouseUnavailable = true
      metrics.retries.inc({ operation })
      log.warn(
        { err: error, operation, attempt, delayMs: Math.round(delayMs) },
        `ClickHouse ${operation} failed; retrying (nothing is committed meanwhile)`,
      )
    },
    clickhouseAnswered() {
      if (!health.clickhouseUnavailable) return
      health.clickhouseUnavailable = false
      log.info('ClickHouse answers again')
    },
    writing(active) {
      health.writing = active
    },
    waited(seconds) {
      metrics.backpressureSeconds.inc(seconds)
    },
    checkpointed(count) {
      metrics.checkpoints.inc(count)
    },
    checkpointFailed(error) {
      log.error(
        { err: error },
        'writing checkpoints failed; they are written with the next batch or at the next try',
      )
    },
    recordFailed(record, failure) {
      log.error(
        { topic: record.topic, partition: record.partition, offset: record.offset, failure },
        'reading a message failed: dead-lettered as RECORD_FAILED so the partition goes on',
      )
    },
    batchWritten({
      batch,
      reason,
      deadLetterClasses,
      seconds,
      inserted,
      insertedLatest,
      alreadyStored,
      replays,
      conflicts,
      chained,
    }) {
      const written = inserted
      metrics.rowsWritten.inc({ table: auditTables.events }, written)
      metrics.rowsWritten.inc({ table: auditTables.recordLatest }, insertedLatest)
      metrics.batches.inc({ reason })
      metrics.batchRows.observe(batch.rows.length)
      metrics.insertSeconds.observe(seconds)
      const skipped = batch.alreadyStored + alreadyStored
      if (skipped > 0) metrics.alreadyStored.inc(skipped)
      if (replays > 0) metrics.replays.inc(replays)
      if (conflicts > 0) {
        metrics.conflicts.inc(conflicts)
        log.warn(
          { conflicts },
          'refused events whose id the trail holds with other content: the originals are kept, the copies dead-lettered as EVENT_ID_CONFLICT',
        )
      }
      metrics.chainEntries.inc(chained.entries)
      if (chained.checkpoints > 0) metrics.checkpoints.inc(chained.checkpoints)
      const byClass = new Map<string, number>()
      for (const errorClass of deadLetterClasses) byClass.set(errorClass, (byClass.get(errorClass) ?? 0) + 1)
      for (const [errorClass, count] of byClass) metrics.deadLettered.inc({ reason: errorClass }, count)
      if (byClass.size > 0) {
        log.warn(
          { deadLettered: Object.fromEntries(byClass) },
          'dead-lettered messages (audit-pipeline dlq list shows why)',
        )
      }
      log.debug(
        {
          rows: written,
          latestRows: insertedLatest,
          alreadyStored: skipped,
          replays,
          records: batch.records,
          reason,
          seconds,
          ...chained,
        },
        'batch written',
      )
    },
  }
  return { telemetry, health }
}
