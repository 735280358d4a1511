import { isoFromClickHouse } from '../query/time.js'
import type { Conditions } from '../query/eventFilters.js'
import type { StoredEventRow } from './eventRow.js'

/**
 * How alerts are stored, in one place: the alerting service writes each alert as a canonical
 * audit event (services/alerting/src/alerts/alertEvent.ts) that the sink stores like any other:
 * object type `alert` with the alert id, action `alert.raised` or `alert.resolved`, category
 * `security`, the event's severity, the description as the object's label, and the rest as
 * `alert.*` attributes. If that format moves, this module moves with it.
 */
export const alertStorage = {
  objectType: 'alert',
  actions: ['alert.raised', 'alert.resolved'],
  attributes: {
    status: 'alert.status',
    rule: 'alert.rule',
    ruleKind: 'alert.rule_kind',
    groupKey: 'alert.group_key',
    windowStart: 'alert.window_start',
    windowEnd: 'alert.window_end',
    figures: 'alert.figures',
    triggeringEventIds: 'alert.triggering_event_ids',
    clickhouseQuery: 'alert.clickhouse_query',
    resolves: 'alert.resolves',
  },
} as const

/** The conditions that select alert events (and, with `rule`, one rule's alerts). */
export function alertConditions(rule?: string): Conditions {
  return {
    conditions: [
      'object_type = {alert_object_type:String}',
      'action_name IN {alert_actions:Array(String)}',
      ...(rule === undefined ? [] : [`attributes[{alert_rule_attribute:String}] = {alert_rule:String}`]),
    ],
    params: {
      alert_object_type: alertStorage.objectType,
      alert_actions: [...alertStorage.actions],
      ...(rule !== undefined && { alert_rule_attribute: alertStorage.attributes.rule, alert_rule: rule }),
    },
  }
}

/** An alert as the API gives it, read back from its event. */
export function alertAnswer(row: StoredEventRow) {
  const attribute = (name: string): string | null => row.attributes[name] ?? null
  const json = <T>(name: string, fallback: T): T => {
    const text = attribute(name)
    if (text === null) return fallback
    try {
      return JSON.parse(text) as T
    } catch {
      return fallback
    }
  }
  const { attributes: names } = alertStorage
  return {
    alert_id: row.object_id,
    event_id: row.event_id,
    status: attribute(names.status) ?? row.action_name.replace(/^alert\./, ''),
    raised_at: isoFromClickHouse(row.occurred_at),
    tenant: row.tenant,
    rule: attribute(names.rule) ?? row.object_id2,
    rule_kind: attribute(names.ruleKind),
    severity: row.severity,
    description: row.object_label,
    group_key: attribute(names.groupKey),
    window_start: attribute(names.windowStart),
    window_end: attribute(names.windowEnd),
    figures: json<Record<string, unknown>>(names.figures, {}),
    triggering_event_ids: json<string[]>(names.triggeringEventIds, []),
    resolves_alert_id: attribute(names.resolves),
    clickhouse_query: attribute(names.clickhouseQuery),
    attributes: row.attributes,
  }
}
