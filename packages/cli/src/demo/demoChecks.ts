import type { ApiAlert, ApiEvent } from '../commands/queryOutput.js'
import type { Scenario } from './scenario.js'

/** What the demo saw, gathered from the query API, the webhook inbox and the dead-letter topic. */
export type DemoObservation = {
  timeline: ApiEvent[]
  /** Alerts stored in ClickHouse (the query API's /v1/alerts) for the run's tenant. */
  storedAlerts: ApiAlert[]
  /** Alert webhooks the local inbox received for the run's tenant, with their signature check. */
  deliveredAlerts: { rule: string; groupKey: string; status: string; verified: boolean }[]
  /** The run's malformed messages found in the dead-letter topic, by key, with the reason. */
  deadLetters: { key: string; reason: string }[]
}

export type DemoCheck = { what: string; ok: boolean; detail: string }

/**
 * Everything the scenario must have caused, each as a check with what was found: the timeline in
 * order with its changes, each expected alert raised exactly once (stored and delivered, signed),
 * the burst alerting once, and every malformed message dead-lettered with a reason.
 */
export function demoChecks(scenario: Scenario, seen: DemoObservation): DemoCheck[] {
  const { timeline } = scenario
  const actions = seen.timeline.map((event) => event.action.name)
  const checks: DemoCheck[] = [
    {
      what: `timeline of ${timeline.objectType} ${timeline.objectId}: ${timeline.actions.length} events in order`,
      ok: actions.join() === timeline.actions.join(),
      detail: actions.join(' → ') || 'no events',
    },
    {
      what: 'the timeline shows the priority lowered from Urgent to Normal',
      ok: seen.timeline.some((event) =>
        event.changes.some(
          // Values come as JSON text, as stored.
          (c) => c.path === 'priority' && c.old_value === '"Urgent"' && c.new_value === '"Normal"',
        ),
      ),
      detail: 'priority: Urgent → Normal',
    },
  ]
  for (const expected of scenario.alerts) {
    const stored = seen.storedAlerts.filter(
      (alert) =>
        alert.rule === expected.rule && alert.group_key === expected.groupKey && alert.status === 'raised',
    )
    const delivered = seen.deliveredAlerts.filter(
      (alert) =>
        alert.rule === expected.rule && alert.groupKey === expected.groupKey && alert.status === 'raised',
    )
    checks.push({
      what: `alert ${expected.rule} (${expected.why})`,
      ok: stored.length === 1 && delivered.length === 1 && delivered.every((d) => d.verified),
      detail: `${stored.length} stored in ClickHouse, ${delivered.length} delivered to ops${delivered.some((d) => !d.verified) ? ' (a signature did not verify)' : delivered.length > 0 ? ', signed' : ''}`,
    })
  }
  const unexpectedDeliveries = seen.deliveredAlerts.filter((d) => !d.verified)
  checks.push({
    what: 'every alert webhook carried a valid signature',
    ok: unexpectedDeliveries.length === 0,
    detail: `${seen.deliveredAlerts.length} delivered, ${unexpectedDeliveries.length} unsigned or wrongly signed`,
  })
  for (const message of scenario.malformed) {
    const found = seen.deadLetters.find((dead) => dead.key === message.key)
    checks.push({
      what: `dead-lettered: ${message.why}`,
      ok: found !== undefined,
      detail: found?.reason ?? 'not in the dead-letter topic',
    })
  }
  return checks
}

/** True once everything the checks need has arrived (the demo polls until then or a deadline). */
export function demoComplete(scenario: Scenario, seen: DemoObservation): boolean {
  return demoChecks(scenario, seen).every((check) => check.ok)
}
