import type { AuditEvent } from '@audit-pipeline/event-model'

/**
 * Synthetic helpdesk traffic for the alerting benchmark: 20 tenants, 2,000 users with a few
 * addresses each, tickets and customers, updates that change priority, status or assignee, some
 * deletes and logins. Deterministic: the same index gives the same event.
 */
export function alertingBenchEvent(index: number, occurredAt: number): AuditEvent {
  const user = index % 2_000
  const kinds = ['update', 'update', 'update', 'read', 'create', 'delete', 'operation'] as const
  const kind = kinds[index % kinds.length] ?? 'update'
  const customer = index % 11 === 0
  const changes =
    kind === 'update'
      ? [
          {
            path: ['priority', 'status', 'assignee', 'title'][index % 4] ?? 'title',
            // Mostly routine changes; one in 50 lowers an urgent priority or closes a ticket.
            old_value: JSON.stringify([index % 50 === 1 ? 'Urgent' : 'Normal', 'open', null, 'x'][index % 4]),
            new_value: JSON.stringify(
              [
                index % 50 === 1 ? 'Normal' : 'High',
                index % 50 === 2 ? 'closed' : 'pending',
                `u-${(user + 1) % 2_000}`,
                'y',
              ][index % 4],
            ),
            value_type: 'string' as const,
          },
        ]
      : []
  return {
    event_id: `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
    occurred_at: occurredAt,
    recorded_at: occurredAt,
    tenant: `t${index % 20}`,
    source: { service: `svc-${index % 8}`, instance: null, version: null },
    actor: {
      type: 'user',
      id: `u-${user}`,
      display_name: null,
      roles: index % 9 === 0 ? ['supervisor'] : ['agent'],
      ip: `10.0.${user % 250}.${index % 3}`,
      user_agent: null,
      session_id: null,
    },
    on_behalf_of: null,
    action: { kind, name: kind === 'operation' ? 'login' : `ticket.${kind}` },
    category: 'business',
    object: {
      type: customer ? 'customer' : 'ticket',
      id: `${customer ? 'C' : 'T'}-${index % 50_000}`,
      id2: null,
      id3: null,
      label: null,
    },
    changes,
    before: null,
    after: null,
    outcome: { status: index % 13 === 0 ? 'failure' : 'success', reason: null },
    severity: 'info',
    correlation: { trace_id: null, request_id: null },
    attributes: { channel: index % 2 === 0 ? 'web' : 'api' },
    sensitive_fields: [],
  }
}

/**
 * 100 rules of every kind, as a deployment might load: most filter on the tenant or action, so
 * an event passes few of them, as in production.
 */
export function alertingBenchRules(count = 100): string {
  const rules: string[] = []
  for (let i = 0; rules.length < count; i++) {
    const tenant = `t${i % 20}`
    const kind = i % 10
    const common = `  - id: rule-${i}\n    severity: warning\n`
    if (kind <= 2) {
      rules.push(
        `${common}    kind: change\n    field: ${['priority', 'status', 'assignee'][kind]}\n    to: ${['[Normal, Low]', '[closed]', '[u-1]'][kind]}\n    filter: event.tenant == "${tenant}" && !("supervisor" in event.actor.roles)\n    groupBy: event.object.id\n`,
      )
    } else if (kind === 3) {
      rules.push(
        `${common}    kind: threshold\n    filter: event.action.kind == "delete" && event.tenant == "${tenant}"\n    groupBy: event.actor.id\n    window: 5m\n    atLeast: 50\n`,
      )
    } else if (kind === 4) {
      rules.push(
        `${common}    kind: new_value\n    filter: event.action.name == "login" && event.tenant == "${tenant}"\n    groupBy: event.actor.id\n    value: event.actor.ip\n`,
      )
    } else if (kind === 5) {
      rules.push(
        `${common}    kind: cardinality\n    filter: event.object.type == "customer" && event.tenant == "${tenant}"\n    groupBy: event.actor.id\n    value: event.object.id\n    window: 1h\n    moreThan: 100\n`,
      )
    } else if (kind === 6) {
      rules.push(
        `${common}    kind: sequence\n    filter: event.tenant == "${tenant}"\n    groupBy: event.object.id\n    first: '"assignee" in changed && "supervisor" in event.actor.roles'\n    then: event.action.kind == "delete" && has(first.changed.assignee) && event.actor.id == first.changed.assignee.new\n    within: 24h\n`,
      )
    } else if (kind === 7) {
      rules.push(
        `${common}    kind: spike\n    filter: event.action.name == "login" && event.outcome.status == "failure" && event.tenant == "${tenant}"\n    window: 5m\n    reference: 1h\n    factor: 5\n`,
      )
    } else if (kind === 8) {
      rules.push(
        `${common}    kind: flatline\n    filter: event.tenant == "${tenant}"\n    groupBy: event.source.service\n    window: 15m\n    fewerThan: 1\n`,
      )
    } else {
      rules.push(
        `${common}    kind: match\n    filter: event.tenant == "${tenant}" && event.action.kind == "delete" && "assignee" in entity.fields && entity.fields.assignee != event.actor.id\n`,
      )
    }
  }
  return `rules:\n${rules.join('')}`
}
