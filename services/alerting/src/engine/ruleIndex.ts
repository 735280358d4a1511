import type { EqualityGuard } from '../rules/equalityGuards.js'
import type { RuleRunner } from './ruleRunner.js'

/**
 * Which rules an event can match, from one equality each rule's filter requires
 * (rules/equalityGuards.ts): rules are looked up by the event's value at that path, so a rule for
 * another tenant or action costs nothing. Rules without such an equality are always evaluated.
 * Candidates keep the rules' file order, so alerts come out in the same order either way.
 */
export function createRuleIndex(runners: readonly RuleRunner[]) {
  const always: number[] = []
  const byPath = new Map<string, { path: readonly string[]; values: Map<string, number[]> }>()
  // Each rule is filed under its most selective equality: the one the fewest rules share
  // (`tenant == "acme"` rather than `action.kind == "delete"` when many rules test the action).
  const sharing = new Map<string, number>()
  const guardKey = (guard: EqualityGuard) => `${guard.path.join('.')}\u0000${keyOf(guard.value)}`
  for (const runner of runners) {
    for (const guard of runner.rule.filter?.guards ?? []) {
      sharing.set(guardKey(guard), (sharing.get(guardKey(guard)) ?? 0) + 1)
    }
  }
  for (const [position, runner] of runners.entries()) {
    const guard = [...(runner.rule.filter?.guards ?? [])].sort(
      (a, b) => (sharing.get(guardKey(a)) ?? 0) - (sharing.get(guardKey(b)) ?? 0),
    )[0]
    if (!guard) {
      always.push(position)
      continue
    }
    const pathKey = guard.path.join('.')
    let entry = byPath.get(pathKey)
    if (!entry) {
      entry = { path: guard.path, values: new Map() }
      byPath.set(pathKey, entry)
    }
    const valueKey = keyOf(guard.value)
    const list = entry.values.get(valueKey)
    if (list) list.push(position)
    else entry.values.set(valueKey, [position])
  }
  const indexed = byPath.size > 0
  const runnersAt = (positions: readonly number[]) => positions.flatMap((position) => runners[position] ?? [])
  // The usual case, one matching bucket and no unindexed rules, returns a list made once.
  const bucketRunners = new Map<number[], readonly RuleRunner[]>()
  for (const { values } of byPath.values())
    for (const list of values.values()) bucketRunners.set(list, runnersAt(list))
  const alwaysRunners = runnersAt(always)

  return {
    candidates(event: Record<string, unknown>): readonly RuleRunner[] {
      if (!indexed) return runners
      let single: number[] | undefined
      let picked: number[] | undefined
      for (const { path, values } of byPath.values()) {
        let value: unknown = event
        for (const key of path) value = (value as Record<string, unknown> | null | undefined)?.[key]
        if (typeof value !== 'string' && typeof value !== 'boolean') continue
        const hits = values.get(keyOf(value))
        if (!hits) continue
        if (single === undefined && picked === undefined) single = hits
        else {
          picked ??= [...(single ?? [])]
          picked.push(...hits)
        }
      }
      if (picked === undefined) {
        if (always.length === 0) return single === undefined ? [] : (bucketRunners.get(single) ?? [])
        if (single === undefined) return alwaysRunners
        picked = [...single]
      }
      picked.push(...always)
      picked.sort((a, b) => a - b)
      return runnersAt(picked)
    },
  }
}

const keyOf = (value: string | boolean) => `${typeof value}:${String(value)}`
