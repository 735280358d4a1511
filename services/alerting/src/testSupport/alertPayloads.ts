import type { AlertPayload } from '../alerts/alertEvent.js'

/** A raised mass-delete threshold alert, as the delivery tests send it. */
export function massDeleteAlert(
  alertId = '2caca6d4-a30b-8ee0-80b6-a5492976ece7',
  severity: AlertPayload['severity'] = 'critical',
): AlertPayload {
  return {
    alert_id: alertId,
    status: 'raised',
    resolves_alert_id: null,
    rule: 'mass-delete',
    rule_kind: 'threshold',
    description: 'mass-delete',
    severity,
    tenant: 'acme',
    group_key: 'u-mass',
    occurred_at: '2026-03-02T09:00:00.000Z',
    window_start: '2026-03-02T08:55:00.000Z',
    window_end: '2026-03-02T09:00:00.000Z',
    figures: { count: 50 },
    triggering_event_ids: [],
    triggering_events: [],
    clickhouse_query: null,
    group_id: alertId,
    group_size: 1,
  }
}
