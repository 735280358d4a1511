/**
 * How an alert travels and is stored as a canonical audit event: the alerting service writes it
 * in this form (to the alerts topic, which the ClickHouse sink stores), the query API reads it
 * back. Object type `alert` with the alert id, action `alert.raised` or `alert.resolved`,
 * category `security`, and the alert's fields as `alert.*` attributes (all strings: figures and
 * ids as JSON).
 */
export const alertEventForm = {
  objectType: 'alert',
  category: 'security',
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
    /** The same events with their content digests: JSON `[{"event_id", "content_digest"}]`. */
    triggeringEvents: 'alert.triggering_events',
    clickhouseQuery: 'alert.clickhouse_query',
    resolves: 'alert.resolves',
    groupId: 'alert.group_id',
    groupSize: 'alert.group_size',
  },
} as const
