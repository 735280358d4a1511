import type { EventAnswer } from './eventAnswer.js'

/** One field of a record as of a time: its value then, and the change that gave it. */
export type FieldState = {
  path: string
  /** The value (JSON) the last change gave it; null when that change removed it. */
  value: unknown
  changed_at: string
  event_id: string
  actor: { type: string; id: string; display_name: string | null }
  action: string
}

/**
 * How much of a record's history is kept: `all` its changes (the trail), or, at temporal logging
 * level 1, only its `latest` (audit_record_latest), so the changes it replaced were not kept.
 */
export type RecordKeeping = 'all' | 'latest'

export type RecordState = {
  object: { type: string; id: string; id2: string | null; id3: string | null; label: string | null }
  tenant: string
  at: string
  /** Events about the record up to `at`. */
  events: number
  /** When its first event occurred, and its last. */
  first_event_at: string
  last_event_at: string
  /** Its last event up to `at` deleted it. */
  deleted: boolean
  /** Every field any change set, by path, with its last change up to `at`. */
  fields: FieldState[]
  /** `latest`: only the record's latest change is kept, so `fields` are the ones it set. */
  kept: RecordKeeping
}

/**
 * Folds a record's events, oldest first and already as the caller's role may see them, into its
 * state: each field the value its last change gave it (a value an analyst may not see stays
 * `[redacted]`), and who changed it when. Pure: the events are the timeline's, up to `at`.
 * `kept` is passed through: whether the record is kept at temporal logging level 1.
 */
export function createRecordState(at: string, kept: RecordKeeping) {
  const fields = new Map<string, FieldState>()
  let first: EventAnswer | undefined
  let last: EventAnswer | undefined
  let events = 0
  return {
    add(event: EventAnswer): void {
      first ??= event
      last = event
      events++
      for (const change of event.changes) {
        fields.set(change.path, {
          path: change.path,
          value: change.new_value === null ? null : parsedValue(change.new_value),
          changed_at: event.occurred_at,
          event_id: event.event_id,
          actor: { type: event.actor.type, id: event.actor.id, display_name: event.actor.display_name },
          action: event.action.name,
        })
      }
    },
    /** The state; undefined when no event was added. */
    finish(): RecordState | undefined {
      if (first === undefined || last === undefined) return undefined
      return {
        object: last.object,
        tenant: last.tenant,
        at,
        events,
        first_event_at: first.occurred_at,
        last_event_at: last.occurred_at,
        deleted: last.action.kind === 'delete',
        fields: [...fields.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
        kept,
      }
    },
  }
}

/** Change values are stored as JSON text; one that is not (nothing the pipeline writes) stays text. */
function parsedValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}
