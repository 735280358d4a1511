/**
 * The questions analysts ask most, as SQL with `{name:Type}` parameters (clickhouse-client:
 * `--param_tenant=witify`; `@clickhouse/client`: `query_params`).
 * services/clickhouse-sink/docs/analyst-queries.md shows each one verbatim, and a test runs each
 * one on the ticket 9548-B1 example and checks that the document still shows it as written here.
 */
export type AnalystQuery = {
  readonly title: string
  readonly sql: string
  /** Parameters with the values the documentation and the test use. */
  readonly exampleParams: Readonly<Record<string, string>>
}

export const analystQueries = {
  entityTimeline: {
    title: "An entity's full timeline",
    sql: `SELECT occurred_at, action_name, actor_id, actor_display_name, changes
FROM audit_events_deduplicated
WHERE tenant = {tenant:String} AND object_type = {object_type:String} AND object_id = {object_id:String}
ORDER BY occurred_at, event_id`,
    exampleParams: { tenant: 'witify', object_type: 'ticket', object_id: '9548-B1' },
  },
  fieldChanges: {
    title: 'Who changed a field from one value to another in a period',
    sql: `SELECT occurred_at, object_id, actor_id, actor_display_name, actor_roles, old_value, new_value
FROM audit_changes
WHERE tenant = {tenant:String} AND object_type = {object_type:String} AND path = {path:String}
  AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
  AND old_value = {old_value:String} AND new_value = {new_value:String}
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id, path`,
    exampleParams: {
      tenant: 'witify',
      object_type: 'ticket',
      path: 'priority',
      from: '2024-03-11 00:00:00',
      to: '2024-03-18 00:00:00',
      old_value: '"Urgent"',
      new_value: '"Normal"',
    },
  },
  fieldChangesFromEvents: {
    title: 'The same, from the events',
    sql: `SELECT occurred_at, object_id, actor_id, actor_display_name, actor_roles,
  change.old_value AS old_value, change.new_value AS new_value
FROM audit_events_deduplicated
ARRAY JOIN changes AS change
WHERE tenant = {tenant:String} AND object_type = {object_type:String}
  AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
  AND change.path = {path:String} AND change.old_value = {old_value:String} AND change.new_value = {new_value:String}
ORDER BY occurred_at, event_id`,
    exampleParams: {
      tenant: 'witify',
      object_type: 'ticket',
      path: 'priority',
      from: '2024-03-11 00:00:00',
      to: '2024-03-18 00:00:00',
      old_value: '"Urgent"',
      new_value: '"Normal"',
    },
  },
  deletesPerUserPerDay: {
    title: 'Deletes per user per day',
    sql: `SELECT toDate(occurred_at) AS day, actor_id, any(actor_display_name) AS actor_display_name, count() AS deletes
FROM audit_events_deduplicated
WHERE tenant = {tenant:String} AND action_kind = 'delete'
  AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
GROUP BY day, actor_id
ORDER BY day, actor_id`,
    exampleParams: { tenant: 'witify', from: '2024-03-01 00:00:00', to: '2024-04-01 00:00:00' },
  },
  sessionActivity: {
    title: 'Everything a session did',
    sql: `SELECT occurred_at, action_name, object_type, object_id, outcome_status
FROM audit_events
WHERE tenant = {tenant:String} AND actor_session_id = {session_id:String}
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id`,
    exampleParams: { tenant: 'witify', session_id: 's-88a1' },
  },
  actorActivity: {
    title: 'Everything one actor did in a period',
    sql: `SELECT occurred_at, action_name, object_type, object_id, outcome_status
FROM audit_events
WHERE tenant = {tenant:String} AND actor_id = {actor_id:String}
  AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
ORDER BY occurred_at, event_id
LIMIT 1 BY event_id`,
    exampleParams: {
      tenant: 'witify',
      actor_id: 'u-1002',
      from: '2024-03-01 00:00:00',
      to: '2024-04-01 00:00:00',
    },
  },
  actionsPerHour: {
    title: 'Events per action and hour',
    sql: `SELECT hour, action_name, sum(events) AS events
FROM audit_actions_hourly
WHERE tenant = {tenant:String} AND hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')}
GROUP BY hour, action_name
ORDER BY hour, action_name`,
    exampleParams: { tenant: 'witify', from: '2024-03-14 00:00:00', to: '2024-03-17 00:00:00' },
  },
  actionsPerHourExact: {
    title: 'Events per action and hour, each event counted once',
    sql: `SELECT toStartOfHour(occurred_at) AS hour, action_name, count() AS events
FROM audit_events_deduplicated
WHERE tenant = {tenant:String} AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
GROUP BY hour, action_name
ORDER BY hour, action_name`,
    exampleParams: { tenant: 'witify', from: '2024-03-14 00:00:00', to: '2024-03-17 00:00:00' },
  },
} as const satisfies Record<string, AnalystQuery>
