import { EventInvalidError, parseEventJson } from '@audit-pipeline/event-model'
import { canonicalActionKind } from '../normalize/canonicalNames.js'
import type { EventDraft } from '../normalize/eventDraft.js'
import { isJsonObject, type JsonObject } from './jsonObject.js'

export type EventJsonRead = { ok: true; draft: EventDraft } | { ok: false; error: EventInvalidError }

/**
 * Reads an audit record in the documented JSON form with parseEventJson, accepting the spellings
 * normalizeEvent accepts: parseEventJson refuses an action kind outside the enum (`Modified`) and
 * an event_id with spaces around it, so those two are put in canonical form here first, with the
 * same alias table. Everything else, and every refusal, is parseEventJson's. `fieldPrefix` is
 * put before each problem's field (`data.` for a CloudEvent's record).
 */
export function readEventJson(record: JsonObject, fieldPrefix = ''): EventJsonRead {
  try {
    return { ok: true, draft: parseEventJson(withCanonicalSpellings(record)) }
  } catch (error) {
    if (!(error instanceof EventInvalidError)) throw error
    if (fieldPrefix === '') return { ok: false, error }
    return {
      ok: false,
      error: new EventInvalidError(error.problems.map((p) => ({ ...p, field: `${fieldPrefix}${p.field}` }))),
    }
  }
}

function withCanonicalSpellings(record: JsonObject): JsonObject {
  const copy: Record<string, unknown> = { ...record }
  const eventId = record['event_id']
  if (typeof eventId === 'string') copy['event_id'] = eventId.trim()
  const action = record['action']
  if (isJsonObject(action) && typeof action['kind'] === 'string') {
    copy['action'] = { ...action, kind: canonicalActionKind(action['kind']) ?? action['kind'] }
  }
  return copy
}
