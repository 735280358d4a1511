import type { AuditEventDraft } from '@audit-pipeline/event-model'

/**
 * An event as an input adapter hands it to `normalizeEvent`: the canonical shape, except that
 * `recorded_at` may be missing and `action.kind` is any word a producer used (`Modified`,
 * `deleted`), which normalization maps to an ActionKind or refuses. Every `AuditEventDraft` and
 * every decoded `AuditEvent` is one, so Avro input goes through the same normalization.
 */
export type EventDraft = Omit<AuditEventDraft, 'action'> & { action: { kind: string; name: string } }
