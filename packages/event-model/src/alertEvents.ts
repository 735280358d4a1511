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
    /**
     * Which of what analysts may be refused (`analystHideableFields`) the group key and figures
     * are made from, comma-separated (empty: none): the query API hides both from an analyst of a
     * tenant that hides one of them, and from every analyst when an alert does not say.
     */
    reveals: 'alert.reveals',
  },
} as const

/**
 * What of an event the query API can hide from analysts, tenant by tenant: the IP address,
 * session id and user agent of the actor (and of whom it acted for), and the attributes.
 */
export const analystHideableFields = ['ip', 'session_id', 'user_agent', 'attributes'] as const
export type AnalystHideableField = (typeof analystHideableFields)[number]
