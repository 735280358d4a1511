import { alertEventForm } from '@audit-pipeline/event-model'
import { isoFromClickHouse } from '../query/time.js'
import type { Conditions } from '../query/eventFilters.js'
import type { StoredEventRow } from './eventRow.js'

/**
 * How alerts are stored: as canonical audit events in the form the alerting service writes them
 * (`alertEventForm`, shared through event-model), which the sink stores like any other event.
 */
export const alertStorage = alertEventForm

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
