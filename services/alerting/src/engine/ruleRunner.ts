import type { AuditEvent } from '@audit-pipeline/event-model'
import {
  alertIdFor,
  type AlertNotice,
  type AlertStatus,
  type TriggeringEvent,
} from '../alerts/alertNotice.js'
import { logicFor } from '../kinds/logicFor.js'
import type { Verdict } from '../kinds/ruleKind.js'
import type { CompiledExpression } from '../rules/celExpression.js'
import type { CompiledRule } from '../rules/compiledRule.js'
import { TrackedStore } from './trackedStore.js'

/**
 * One group of one rule: the kind's state, and the alert bookkeeping that deduplicates and
 * throttles (the open alert's id, when the last alert was raised).
 */
export type GroupEntry = {
  s: object
  tenant: string
  group: string
  /** The open alert of a condition that holds (windowed kinds); resolved when it clears. */
  firing?: string
  raisedAt?: number
}

/** What a rule did, for metrics: read and reset by the service after each batch. */
export type RuleCounters = {
  matches: number
  raised: number
  resolved: number
  suppressed: number
  expressionErrors: number
  late: number
  /** Evaluations of one event that took longer than the rule's time budget (ruleBudget.ts). */
  budgetExceeded: number
}

export const emptyCounters = (): RuleCounters => ({
  matches: 0,
  raised: 0,
  resolved: 0,
  suppressed: 0,
  expressionErrors: 0,
  late: 0,
  budgetExceeded: 0,
})

export type EventInput = {
  event: AuditEvent
  /** The event's content digest, computed on the first call (alertEngine.ts shares it between rules). */
  digest: () => string
  context: Record<string, unknown>
  late: boolean
  watermarkMs: number
}

/** The namespace of a rule's state in the changelog: a changed definition starts afresh. */
export const ruleNamespace = (rule: CompiledRule) => `rule:${rule.id}:${rule.fingerprint}`

/**
 * Runs one rule: filter, group, the kind's logic, then dedup and throttle per group. Pure apart
 * from its state (time comes with the events and the watermark).
 */
export function createRuleRunner(rule: CompiledRule, options: { maxGroups: number }) {
  const counters = emptyCounters()
  const evaluate = (expression: CompiledExpression, context: Record<string, unknown>): unknown => {
    try {
      return expression.evaluate(context)
    } catch {
      // A field the event lacks (`changed.priority` on an event without that change): no match.
      counters.expressionErrors++
      return undefined
    }
  }
  const isTrue = (expression: CompiledExpression, context: Record<string, unknown>) =>
    evaluate(expression, context) === true
  const logic = logicFor(rule, isTrue)
  const store = new TrackedStore<GroupEntry>(ruleNamespace(rule), options.maxGroups)
  const firing = new Set<string>()
  // One-shot kinds without throttling keep no state per group.
  const stateless = (rule.kind === 'change' || rule.kind === 'match') && rule.reAlertAfterMs === 0

  const notice = (
    status: AlertStatus,
    entry: GroupEntry,
    alertId: string,
    atMs: number,
    verdict: NonNullable<Verdict>,
    windowStartMs: number,
    windowEndMs: number,
    events: readonly TriggeringEvent[],
  ): AlertNotice => ({
    status,
    alertId,
    ...(status === 'resolved' && entry.firing !== undefined && { resolvesAlertId: entry.firing }),
    ruleId: rule.id,
    ruleKind: rule.kind,
    severity: rule.severity,
    description: rule.description,
    tenant: entry.tenant,
    groupKey: entry.group,
    atMs,
    windowStartMs,
    windowEndMs,
    figures: verdict.figures,
    triggeringEvents: [...events],
    reveals: rule.reveals,
  })

  /** Turns a verdict into notices: dedup (one open alert per group), throttle, resolve. */
  const decide = (key: string, entry: GroupEntry, verdict: Verdict, atMs: number): AlertNotice[] => {
    if (verdict === undefined) return []
    if (!verdict.holds) {
      if (entry.firing === undefined) return []
      const resolved = notice(
        'resolved',
        entry,
        alertIdFor(entry.firing, 'resolved'),
        atMs,
        verdict,
        atMs,
        atMs,
        [],
      )
      delete entry.firing
      firing.delete(key)
      counters.resolved++
      return [resolved]
    }
    // Behind the last alert (an event read out of order, or the watermark's check) counts as
    // within reAlertAfter; without reAlertAfter nothing is throttled, in whatever order events come.
    const sinceRaised = entry.raisedAt === undefined ? Number.POSITIVE_INFINITY : atMs - entry.raisedAt
    const throttled = rule.reAlertAfterMs > 0 && sinceRaised < rule.reAlertAfterMs
    if (throttled || (entry.firing !== undefined && rule.reAlertAfterMs === 0)) {
      // Already open (or raised too recently): the open alert stands for this occurrence.
      if (entry.firing === undefined) counters.suppressed++
      return []
    }
    const reminder = entry.firing !== undefined
    const alertId = alertIdFor(rule.id, key, ...verdict.identity, ...(reminder ? ['reminder', atMs] : []))
    if (logic.resolvable) {
      entry.firing = alertId
      firing.add(key)
    }
    entry.raisedAt = atMs
    counters.raised++
    return [
      notice(
        'raised',
        entry,
        alertId,
        atMs,
        verdict,
        verdict.windowStartMs,
        verdict.windowEndMs,
        verdict.events,
      ),
    ]
  }

  return {
    rule,
    store,
    counters,
    /** Rebuilds the firing set after the store was restored from the changelog. */
    restored(key: string, entry: GroupEntry) {
      store.restore(key, entry)
      if (entry.firing !== undefined) firing.add(key)
    },
    onEvent({ event, digest, context, late, watermarkMs }: EventInput): AlertNotice[] {
      if (rule.filter && !isTrue(rule.filter, context)) return []
      counters.matches++
      if (late && logic.windowed) {
        counters.late++
        return []
      }
      let group = ''
      if (rule.groupBy) {
        const value = evaluate(rule.groupBy, context)
        const key = keyText(value)
        if (key === undefined) return []
        group = key
      }
      let value: string | undefined
      if (rule.value) {
        const result = evaluate(rule.value, context)
        value = keyText(result)
        if (value === undefined) return []
      }
      const key = rule.definition.acrossTenants ? group : `${event.tenant}\u0001${group}`
      let entry = stateless ? undefined : store.get(key)
      if (entry && entry.firing === undefined && logic.isSpent(entry.s, watermarkMs)) {
        entry.s = logic.initial()
      }
      entry ??= { s: logic.initial(), tenant: event.tenant, group }
      entry.tenant = event.tenant
      const verdict = logic.onEvent(entry.s, {
        timeMs: event.occurred_at,
        eventId: event.event_id,
        digest,
        context,
        ...(value !== undefined && { value }),
      })
      const notices = decide(key, entry, verdict, event.occurred_at)
      if (!stateless) store.set(key, entry)
      return notices
    },
    /** The watermark moved on: resolve what cleared, raise flatlines. */
    onTime(watermarkMs: number): AlertNotice[] {
      if (!logic.onTime) return []
      const notices: AlertNotice[] = []
      const keys = logic.checksIdleGroups ? [...store.keys()] : [...firing]
      for (const key of keys) {
        const entry = store.get(key)
        if (!entry) {
          firing.delete(key)
          continue
        }
        const verdict = logic.onTime(entry.s, watermarkMs)
        notices.push(...decide(key, entry, verdict, watermarkMs))
        if (verdict !== undefined) store.set(key, entry)
      }
      return notices
    },
  }
}

export type RuleRunner = ReturnType<typeof createRuleRunner>

/** A groupBy or value result as text; lists, maps and a missing value group nothing. */
function keyText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value)
  return undefined
}
