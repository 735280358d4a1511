import { alertEventForm, type AuditEvent, type Severity } from '@audit-pipeline/event-model'
import { alertStatuses, type AlertNotice, type AlertStatus, type TriggeringEvent } from './alertNotice.js'

/** Who raised the alert, as the alert event's source. */
export type AlertSource = { instance: string | null; version: string | null }

/** Alerts raised together by one rule in one consumed batch: a receiver may fold them into one page. */
export type AlertGrouping = { groupId: string; groupSize: number }

/** The attribute names an alert event carries (the shared form: event-model's alertEventForm). */
export const alertAttributes = alertEventForm.attributes

/**
 * An alert as a canonical audit event (category `security`, action `alert.raised` or
 * `alert.resolved`, object `alert` with the alert id): the alerts topic then has the same Avro
 * form as the normalized topic, and the ClickHouse sink stores alerts beside the events they are
 * about by reading it too.
 */
export function alertEvent(
  notice: AlertNotice,
  source: AlertSource,
  recordedAtMs: number,
  grouping: AlertGrouping,
): AuditEvent {
  const eventIds = notice.triggeringEvents.map((triggering) => triggering.eventId)
  const attributes: Record<string, string> = {
    [alertAttributes.status]: notice.status,
    [alertAttributes.rule]: notice.ruleId,
    [alertAttributes.ruleKind]: notice.ruleKind,
    [alertAttributes.groupKey]: notice.groupKey,
    [alertAttributes.windowStart]: new Date(notice.windowStartMs).toISOString(),
    [alertAttributes.windowEnd]: new Date(notice.windowEndMs).toISOString(),
    [alertAttributes.figures]: JSON.stringify(notice.figures),
    // Kept beside the events with their digests, for readers of the alerts written before them.
    [alertAttributes.triggeringEventIds]: JSON.stringify(eventIds),
    [alertAttributes.triggeringEvents]: JSON.stringify(notice.triggeringEvents.map(triggeringEventPayload)),
    [alertAttributes.groupId]: grouping.groupId,
    [alertAttributes.groupSize]: String(grouping.groupSize),
    [alertAttributes.reveals]: (notice.reveals ?? []).join(','),
  }
  if (eventIds.length > 0) {
    attributes[alertAttributes.clickhouseQuery] = clickhouseQueryFor(eventIds)
  }
  if (notice.resolvesAlertId !== undefined) attributes[alertAttributes.resolves] = notice.resolvesAlertId
  return {
    event_id: notice.alertId,
    occurred_at: notice.atMs,
    recorded_at: recordedAtMs,
    tenant: notice.tenant,
    source: { service: 'audit-alerting', instance: source.instance, version: source.version },
    actor: {
      type: 'system',
      id: 'audit-alerting',
      display_name: null,
      roles: [],
      ip: null,
      user_agent: null,
      session_id: null,
    },
    on_behalf_of: null,
    action: { kind: 'operation', name: `alert.${notice.status}` },
    category: alertEventForm.category,
    object: {
      type: alertEventForm.objectType,
      id: notice.alertId,
      id2: notice.ruleId,
      id3: null,
      label: notice.description,
    },
    changes: [],
    before: null,
    after: null,
    outcome: { status: 'success', reason: null },
    severity: notice.severity,
    correlation: { trace_id: null, request_id: null },
    attributes,
    sensitive_fields: [],
  }
}

/** What an analyst runs to see the events behind an alert (ids are UUIDs: nothing to escape). */
export function clickhouseQueryFor(eventIds: readonly string[]): string {
  const ids = eventIds.map((id) => `'${id.replace(/[^0-9A-Za-z-]/g, '')}'`).join(', ')
  return `SELECT * FROM audit_events_deduplicated WHERE event_id IN (${ids}) ORDER BY occurred_at`
}

/** A triggering event as receivers get it: its id and content digest (null: not known). */
export type TriggeringEventPayload = { event_id: string; content_digest: string | null }

const triggeringEventPayload = (triggering: TriggeringEvent): TriggeringEventPayload => ({
  event_id: triggering.eventId,
  content_digest: triggering.contentDigest,
})

/** The alert as receivers get it in the webhook body's `data`. */
export type AlertPayload = {
  alert_id: string
  status: AlertStatus
  resolves_alert_id: string | null
  rule: string
  rule_kind: string
  description: string
  severity: Severity
  tenant: string
  group_key: string
  occurred_at: string
  window_start: string
  window_end: string
  figures: Record<string, number | string>
  /** Kept for receivers written before `triggering_events`: the same ids, in the same order. */
  triggering_event_ids: string[]
  /** The events that made the alert with their content digests, to match them in the audit trail. */
  triggering_events: TriggeringEventPayload[]
  clickhouse_query: string | null
  group_id: string
  group_size: number
}

/** Reads an alert back from its event (the delivery stage gets it from the alerts topic). */
export function alertPayloadOf(event: AuditEvent): AlertPayload | undefined {
  const attribute = (name: string) => event.attributes[name]
  const status = attribute(alertAttributes.status)
  if (event.object.type !== alertEventForm.objectType || !alertStatuses.includes(status as AlertStatus))
    return undefined
  const triggeringEventIds = JSON.parse(attribute(alertAttributes.triggeringEventIds) ?? '[]') as string[]
  return {
    alert_id: event.event_id,
    status: status as AlertStatus,
    resolves_alert_id: attribute(alertAttributes.resolves) ?? null,
    rule: attribute(alertAttributes.rule) ?? '',
    rule_kind: attribute(alertAttributes.ruleKind) ?? '',
    description: event.object.label ?? '',
    severity: event.severity,
    tenant: event.tenant,
    group_key: attribute(alertAttributes.groupKey) ?? '',
    occurred_at: new Date(event.occurred_at).toISOString(),
    window_start: attribute(alertAttributes.windowStart) ?? '',
    window_end: attribute(alertAttributes.windowEnd) ?? '',
    figures: JSON.parse(attribute(alertAttributes.figures) ?? '{}') as Record<string, number | string>,
    triggering_event_ids: triggeringEventIds,
    triggering_events: triggeringEventsOf(attribute(alertAttributes.triggeringEvents), triggeringEventIds),
    clickhouse_query: attribute(alertAttributes.clickhouseQuery) ?? null,
    group_id: attribute(alertAttributes.groupId) ?? event.event_id,
    group_size: Number(attribute(alertAttributes.groupSize) ?? '1'),
  }
}

/**
 * The `alert.triggering_events` attribute read back. An alert written before it existed has only
 * the ids: their digests are not known (null).
 */
function triggeringEventsOf(text: string | undefined, eventIds: readonly string[]): TriggeringEventPayload[] {
  if (text === undefined) return eventIds.map((eventId) => ({ event_id: eventId, content_digest: null }))
  return JSON.parse(text) as TriggeringEventPayload[]
}

/**
 * Alerts of one rule raised in the same batch share a group (its first alert's id), so a
 * receiver can page once for 30 groups crossing a threshold together.
 */
export function groupingOf(notices: readonly AlertNotice[]): AlertGrouping[] {
  const firstOfRule = new Map<string, { groupId: string; size: number }>()
  for (const notice of notices) {
    const key = `${notice.ruleId}\u0000${notice.status}`
    const group = firstOfRule.get(key)
    if (group) group.size++
    else firstOfRule.set(key, { groupId: notice.alertId, size: 1 })
  }
  return notices.map((notice) => {
    const group = firstOfRule.get(`${notice.ruleId}\u0000${notice.status}`)
    return { groupId: group?.groupId ?? notice.alertId, groupSize: group?.size ?? 1 }
  })
}
