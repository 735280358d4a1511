import { randomUUID } from 'node:crypto'
import { ticketExampleLines } from '@audit-pipeline/schemas'

type EventJson = Record<string, unknown> & { object: Record<string, unknown>; occurred_at: string }

/** The ticket story (schemas/examples): created, priority raised to Urgent, priority lowered by an agent. */
const [created, raised, lowered] = ticketExampleLines().map((line) => JSON.parse(line) as EventJson) as [
  EventJson,
  EventJson,
  EventJson,
]
const templates = { created, raised, lowered }

/**
 * One of the ticket story's events in the documented JSON form, for the producer SDK's `generic`:
 * of `tenant`, on ticket `ticket`, with a new event id unless given. `recorded_at` is set (a minute
 * after `occurred_at`), so the event's content digest does not depend on when it is sent; `change`
 * overrides fields (a second copy with other content).
 */
export function ticketEvent(
  step: keyof typeof templates,
  options: { tenant: string; ticket: string; eventId?: string; change?: Record<string, unknown> },
): EventJson {
  const template = templates[step]
  return {
    ...template,
    event_id: options.eventId ?? randomUUID(),
    tenant: options.tenant,
    recorded_at: new Date(Date.parse(template.occurred_at) + 60_000).toISOString(),
    object: { ...template.object, id: options.ticket },
    ...options.change,
  }
}
