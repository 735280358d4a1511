import type { AuditEvent } from '@audit-pipeline/event-model'
import { auditEvent } from './auditEvents.js'

/** JSON text of arrays nested `levels` deep: `[[[…]]]`. */
export function nestedJsonText(levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels)
}

/**
 * An update whose `priority` change has a new value nested `levels` deep (as its JSON text, as
 * events carry it): 6,000 levels overflow any recursive walk, JSON.stringify's included.
 */
export function deeplyNestedChange(options: { at: number; levels: number; objectId?: string }): AuditEvent {
  const event = auditEvent({
    at: options.at,
    object: { id: options.objectId ?? 'T-deep' },
    changes: { priority: ['Normal', 'High'] },
  })
  const [change] = event.changes
  if (change) change.new_value = nestedJsonText(options.levels)
  return event
}
