import type { AuditEvent } from '@audit-pipeline/event-model'
import type { InformativeLevel, LoggingLevels, TemporalLevel } from './levelsPolicy.js'

const dayMs = 86_400_000

/**
 * The event reduced to its levels (levelsPolicy.ts), before redaction, so that nothing is hashed
 * or sealed only to be thrown away. Who (actor, on_behalf_of), which action, which object, the
 * outcome, severity, category, correlation, attributes and ids stay at every level.
 *
 * - informative 3: as it is. 2: each change keeps its `path` and `value_type`, both values
 *   null; no snapshot (`before`, `after` null); `sensitive_fields` stay. 1: no change, no
 *   snapshot, no sensitive field: nothing says which fields the action touched.
 * - temporal 3: as it is. 2: `occurred_at` and `recorded_at` cut to the start of their UTC day.
 *   1: as it is: the event goes out marked (planRecord.ts adds `audit-temporal-level: 1`), and
 *   the sink keeps only the latest such event per record. The normalizer sees one event at a
 *   time and cannot remove the ones before it.
 *
 * Pure and deterministic, so a message read again after a crash gives the same bytes. Returns
 * the event itself at 3/3; never modifies the event given.
 */
export function applyLoggingLevels(event: AuditEvent, levels: LoggingLevels): AuditEvent {
  return withTemporalLevel(withInformativeLevel(event, levels.informative), levels.temporal)
}

function withInformativeLevel(event: AuditEvent, level: InformativeLevel): AuditEvent {
  switch (level) {
    case 3:
      return event
    case 2:
      return {
        ...event,
        changes: event.changes.map(({ path, value_type }) => ({
          path,
          old_value: null,
          new_value: null,
          value_type,
        })),
        before: null,
        after: null,
      }
    case 1:
      return { ...event, changes: [], before: null, after: null, sensitive_fields: [] }
  }
}

function withTemporalLevel(event: AuditEvent, level: TemporalLevel): AuditEvent {
  if (level !== 2) return event
  return {
    ...event,
    occurred_at: startOfUtcDay(event.occurred_at),
    recorded_at: startOfUtcDay(event.recorded_at),
  }
}

/** Epoch ms count UTC days of exactly 86,400,000 ms (no leap seconds), so midnight UTC is a multiple of it. */
function startOfUtcDay(ms: number): number {
  return ms - (((ms % dayMs) + dayMs) % dayMs)
}
