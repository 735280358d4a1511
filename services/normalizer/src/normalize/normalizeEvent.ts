import {
  actionKinds,
  defaultEventPolicy,
  eventProblems,
  EventInvalidError,
  type Actor,
  type AuditEvent,
  type EventPolicy,
  type EventProblem,
} from '@audit-pipeline/event-model'
import { canonicalActionKind, canonicalCategory, knownActionKindWords } from './canonicalNames.js'
import { changesFromSnapshots } from './changesFromSnapshots.js'
import type { EventDraft } from './eventDraft.js'

export type NormalizeOptions = {
  /** The normalizer's clock, UTC epoch milliseconds: `recorded_at` when missing, and the future-time check. */
  now: number
  /** Accepted categories and clock skew. Default: defaultEventPolicy. */
  policy?: EventPolicy
  /**
   * The paths the tenant's redaction policy calls sensitive. Changes computed from snapshots
   * compare them whole, as they do the event's own sensitive_fields, so that no change path
   * spells out a key below them (redaction replaces values, never paths). Default: none.
   */
  sensitiveFieldsOf?: (tenant: string) => readonly string[]
}

export type NormalizeResult = { ok: true; event: AuditEvent } | { ok: false; error: EventInvalidError }

/**
 * The canonical form of an event, whatever adapter read it:
 *
 * - `occurred_at` and `recorded_at` whole UTC milliseconds (a fraction is cut off); `recorded_at`
 *   is `now` when the producer left it out;
 * - `action.kind` trimmed, lower-cased and mapped from its aliases (canonicalNames.ts);
 *   `category` trimmed and compared without case, spelled as the policy spells it;
 * - ids trimmed: `event_id` (also lower-cased, so one UUID is one dedup key), `tenant`, the
 *   source, actor and object ids, `action.name` and the correlation ids; an optional id left
 *   blank becomes null;
 * - `changes` computed from `before` and `after` when the producer sent snapshots and no changes
 *   (changesFromSnapshots.ts says when that is possible), the event's and the tenant's sensitive
 *   paths compared whole;
 * - then every rule of eventProblems. Problems found on the way are reported together with them.
 *
 * Never throws: a refused event comes back as an EventInvalidError naming each field. The draft is
 * not modified. Normalizing a normalized event gives the same event.
 */
export function normalizeEvent(
  draft: EventDraft,
  { now, policy = defaultEventPolicy, sensitiveFieldsOf }: NormalizeOptions,
): NormalizeResult {
  const problems: EventProblem[] = []
  const kind = canonicalActionKind(draft.action.kind)
  if (kind === undefined) {
    problems.push({
      field: 'action.kind',
      message: `unknown action kind '${draft.action.kind}'; expected one of: ${actionKinds.join(', ')} (or an alias: ${knownActionKindWords.filter((word) => !(actionKinds as readonly string[]).includes(word)).join(', ')})`,
    })
  }
  const event: AuditEvent = {
    event_id: draft.event_id.trim().toLowerCase(),
    occurred_at: wholeMs(draft.occurred_at),
    recorded_at: wholeMs(draft.recorded_at ?? now),
    tenant: draft.tenant.trim(),
    source: {
      service: draft.source.service.trim(),
      instance: optionalId(draft.source.instance),
      version: optionalId(draft.source.version),
    },
    actor: canonicalActor(draft.actor),
    on_behalf_of: draft.on_behalf_of === null ? null : canonicalActor(draft.on_behalf_of),
    // An unknown kind is kept as sent so the event stays printable; the problem above refuses it.
    action: {
      kind: kind ?? (draft.action.kind as AuditEvent['action']['kind']),
      name: draft.action.name.trim(),
    },
    category: canonicalCategory(draft.category, policy.categories),
    object: {
      type: draft.object.type.trim(),
      id: draft.object.id.trim(),
      id2: optionalId(draft.object.id2),
      id3: optionalId(draft.object.id3),
      label: draft.object.label,
    },
    changes: [...draft.changes],
    before: draft.before,
    after: draft.after,
    outcome: draft.outcome,
    severity: draft.severity,
    correlation: {
      trace_id: optionalId(draft.correlation.trace_id),
      request_id: optionalId(draft.correlation.request_id),
    },
    attributes: draft.attributes,
    sensitive_fields: draft.sensitive_fields,
  }
  if (kind !== undefined && event.changes.length === 0) {
    const tenantFields = sensitiveFieldsOf?.(event.tenant) ?? []
    const wholeAt =
      tenantFields.length === 0 ? event.sensitive_fields : [...event.sensitive_fields, ...tenantFields]
    const computed = changesFromSnapshots(kind, event, wholeAt)
    event.changes = computed.changes
    problems.push(...computed.problems)
  }
  problems.push(...eventProblems(event, now, policy))
  return problems.length === 0 ? { ok: true, event } : { ok: false, error: new EventInvalidError(problems) }
}

function canonicalActor(actor: Actor): Actor {
  return { ...actor, id: actor.id.trim(), session_id: optionalId(actor.session_id) }
}

function optionalId(id: string | null): string | null {
  const trimmed = id?.trim()
  return trimmed ? trimmed : null
}

/** Whole milliseconds; anything that is not a finite number is left for eventProblems to refuse. */
function wholeMs(time: number): number {
  return Number.isFinite(time) ? Math.floor(time) : time
}
