import type { ChangeView } from '../rules/eventView.js'
import type { KindLogic } from './ruleKind.js'

type FieldValue = string | number | boolean | null

/** A field moving between given values (priority from Urgent to Normal). No state of its own. */
export function changeLogic(rule: {
  field: string
  from?: readonly FieldValue[] | undefined
  to?: readonly FieldValue[] | undefined
}): KindLogic<Record<string, never>> {
  const among = (values: readonly FieldValue[] | undefined, value: unknown) =>
    values === undefined || values.some((candidate) => candidate === value)
  return {
    windowed: false,
    resolvable: false,
    checksIdleGroups: false,
    initial: () => ({}),
    onEvent(_state, { timeMs, eventId, context, digest }) {
      const changed = (context['changed'] as Record<string, ChangeView> | undefined)?.[rule.field]
      if (!changed || changed.old === changed.new) return undefined
      if (!among(rule.from, changed.old) || !among(rule.to, changed.new)) return undefined
      return {
        holds: true,
        identity: [eventId],
        windowStartMs: timeMs,
        windowEndMs: timeMs,
        figures: { field: rule.field, from: display(changed.old), to: display(changed.new) },
        events: [{ eventId, contentDigest: digest() }],
      }
    },
    isSpent: () => true,
  }
}

function display(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}
