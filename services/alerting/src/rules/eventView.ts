import type { AuditEvent } from '@audit-pipeline/event-model'

/** A changed field as rules see it: old and new values parsed from their JSON text. */
export type ChangeView = { path: string; old: unknown; new: unknown; value_type: string }

/**
 * What a rule's expressions read about one event: `event` (the canonical fields, `changes` with
 * parsed values) and `changed` (the same changes by path, for `changed.priority.new == "Normal"`).
 * Built once per event and shared by every rule.
 */
export type EventView = {
  event: Omit<AuditEvent, 'changes'> & { changes: ChangeView[] }
  changed: Record<string, ChangeView>
}

export function eventView(event: AuditEvent): EventView {
  const changes: ChangeView[] = []
  const changed: Record<string, ChangeView> = {}
  for (const change of event.changes) {
    const view = {
      path: change.path,
      old: parseJsonText(change.old_value),
      new: parseJsonText(change.new_value),
      value_type: change.value_type,
    }
    changes.push(view)
    changed[change.path] = view
  }
  // Plain objects throughout: decoded events are Avro record instances, which CEL would take for
  // custom types without those fields.
  return {
    event: {
      ...event,
      source: { ...event.source },
      actor: { ...event.actor, roles: [...event.actor.roles] },
      on_behalf_of: event.on_behalf_of && { ...event.on_behalf_of, roles: [...event.on_behalf_of.roles] },
      action: { ...event.action },
      object: { ...event.object },
      outcome: { ...event.outcome },
      correlation: { ...event.correlation },
      attributes: { ...event.attributes },
      sensitive_fields: [...event.sensitive_fields],
      changes,
    },
    changed,
  }
}

/** Canonical change values are JSON text; `null` there means the field did not exist. */
export function parseJsonText(text: string | null): unknown {
  if (text === null) return null
  try {
    return JSON.parse(text) as unknown
  } catch {
    // Written by an older producer without JSON encoding: the text is the value.
    return text
  }
}
