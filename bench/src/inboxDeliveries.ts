import type { ObservedEvent } from '@audit-pipeline/testing'

/**
 * What `npm start`'s webhook inbox received, from the lines it appends to its log
 * (`.stack/logs/webhooks.ndjson`, deploy/local-stack/src/webhookInbox.ts): one JSON object per
 * delivery with its path, `webhook-id`, whether its signature verified, and its body. The
 * forwarder posts JSON arrays of events; the alerting service posts one alert per delivery, in
 * the Standard Webhooks envelope (`{ data: alert }`). Only verified deliveries count: the inbox
 * answered the others 401, so their sender delivers them again.
 */
export type InboxTally = {
  /** Every event id of every verified forwarded batch, copies included, in the order they came. */
  forwarded: ObservedEvent[]
  /** Verified alert deliveries by webhook-id (receivers deduplicate on it): the alert, and how many deliveries. */
  alerts: Map<
    string,
    { rule: string; status: string; groupKey: string; triggeringEventIds: string[]; deliveries: number }
  >
  /** Deliveries whose signature did not verify. */
  rejected: number
  /** Lines that are not a delivery the tally knows (another path, a body of another shape). */
  unknown: number
}

export const inboxPaths = { forwarded: '/siem', alerts: '/ops' } as const

export function createInboxTally(): InboxTally {
  return { forwarded: [], alerts: new Map(), rejected: 0, unknown: 0 }
}

/** Adds one line of the inbox's log to `tally`. */
export function addInboxLine(tally: InboxTally, line: string): void {
  let delivery: { path?: unknown; webhook_id?: unknown; verified?: unknown; body?: unknown }
  try {
    delivery = JSON.parse(line) as typeof delivery
  } catch {
    tally.unknown++
    return
  }
  if (delivery.verified !== true) {
    tally.rejected++
    return
  }
  if (delivery.path === inboxPaths.forwarded && Array.isArray(delivery.body)) {
    for (const event of delivery.body as { event_id?: unknown }[]) {
      if (typeof event.event_id === 'string') tally.forwarded.push({ eventId: event.event_id })
      else tally.unknown++
    }
    return
  }
  const alert = (delivery.body as { data?: Record<string, unknown> } | null)?.data
  if (
    delivery.path === inboxPaths.alerts &&
    typeof delivery.webhook_id === 'string' &&
    typeof alert?.['rule'] === 'string' &&
    typeof alert['status'] === 'string' &&
    Array.isArray(alert['triggering_event_ids'])
  ) {
    const seen = tally.alerts.get(delivery.webhook_id)
    if (seen) seen.deliveries++
    else {
      tally.alerts.set(delivery.webhook_id, {
        rule: alert['rule'],
        status: alert['status'],
        groupKey: typeof alert['group_key'] === 'string' ? alert['group_key'] : '',
        triggeringEventIds: (alert['triggering_event_ids'] as unknown[]).map(String),
        deliveries: 1,
      })
    }
    return
  }
  tally.unknown++
}

/** The events behind each distinct raised alert of `rule`, one entry per event per alert. */
export function alertedEvents(tally: InboxTally, rule: string): ObservedEvent[] {
  return [...tally.alerts.values()]
    .filter((alert) => alert.rule === rule && alert.status === 'raised')
    .flatMap((alert) => alert.triggeringEventIds.map((eventId) => ({ eventId })))
}

/** Distinct alerts delivered, by rule and status ("new-ip-for-user raised" → 200), most first. */
export function alertCounts(tally: InboxTally): [string, number][] {
  const counts = new Map<string, number>()
  for (const { rule, status } of tally.alerts.values()) {
    counts.set(`${rule} ${status}`, (counts.get(`${rule} ${status}`) ?? 0) + 1)
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}

/**
 * The rules the alerting service disabled for overrunning their time budget (its
 * `pipeline.rule-disabled` alert names each by its group key): their alerts stop there.
 */
export function disabledRules(tally: InboxTally): string[] {
  const rules = [...tally.alerts.values()]
    .filter((alert) => alert.rule === 'pipeline.rule-disabled' && alert.status === 'raised')
    .map((alert) => alert.groupKey)
  return [...new Set(rules)].sort()
}

/** Deliveries beyond the first of each alert (the same webhook-id again): at-least-once's repeats. */
export function alertRedeliveries(tally: InboxTally): number {
  let repeats = 0
  for (const alert of tally.alerts.values()) repeats += alert.deliveries - 1
  return repeats
}
