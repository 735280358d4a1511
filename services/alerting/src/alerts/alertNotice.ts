import { createHash } from 'node:crypto'
import type { AnalystHideableField, Severity } from '@audit-pipeline/event-model'
import type { RuleKind } from '../rules/rulesSchema.js'

export const alertStatuses = ['raised', 'resolved'] as const
export type AlertStatus = (typeof alertStatuses)[number]

/** What the engine decides: an alert raised, or one resolved because its condition cleared. */
export type AlertNotice = {
  status: AlertStatus
  /** Derived from the rule, group and window: evaluating the same events again gives the same id. */
  alertId: string
  /** For a resolved notice: the alert it resolves. */
  resolvesAlertId?: string
  ruleId: string
  /** The rule's kind; `pipeline` for an alert about the pipeline itself (pipelineAlerts.ts). */
  ruleKind: RuleKind | 'pipeline'
  severity: Severity
  description: string
  tenant: string
  groupKey: string
  /** Event time the decision was taken at (the triggering event's, or the watermark's). */
  atMs: number
  windowStartMs: number
  windowEndMs: number
  /** The window's figures: counts, rates, the values involved. */
  figures: Record<string, number | string>
  /** The events that made the alert (the most recent ones, at most maxTriggeringEventIds). */
  triggeringEvents: TriggeringEvent[]
  /**
   * What analysts may be refused that `groupKey` and `figures` are made from (a rule's
   * revealedFields). Default: none, as for the pipeline's own alerts.
   */
  reveals?: readonly AnalystHideableField[]
}

/**
 * An event an alert is about, with its content digest, so an alert can be matched to the exact
 * event stored in the audit trail (the ClickHouse sink stores the canonical event the rules saw).
 */
export type TriggeringEvent = {
  eventId: string
  /**
   * `contentDigest(event)` (packages/integrity): lowercase hex SHA-256 of the event's canonical
   * form. Null only for an event a rule's state held from before digests were kept (restored from
   * an older changelog); those age out of the windows.
   */
  contentDigest: string | null
}

/** Alerts carry at most this many triggering events; `figures.count` says how many there were. */
export const maxTriggeringEventIds = 100

/** A UUID-shaped id from what identifies an alert, so restarts and replays agree on it. */
export function alertIdFor(...parts: readonly (string | number)[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex')
  // Version 8 (custom) UUID layout: readable as a UUID by every tool, stored as one by ClickHouse.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}
