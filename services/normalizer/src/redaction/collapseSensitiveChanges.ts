import {
  formatPath,
  parseJsonText,
  parsePath,
  parsePathPatterns,
  writeJsonText,
  type FieldChange,
  type JsonTree,
  type PathPatterns,
  type PathSegment,
} from '@audit-pipeline/event-model'

/** A change under a sensitive path, and where it sits below it. */
type Member = { readonly below: readonly PathSegment[]; readonly change: FieldChange }

/**
 * The changes with those lying *under* a sensitive path merged into one change at the sensitive
 * path itself. Keys below a sensitive path are often data: with `customer.emails` sensitive, the
 * change `customer.emails["bob@example.com"]` spells an address out in its path, which redaction
 * never touches. The merged change's values are objects keyed by each merged change's path below
 * the sensitive one (`{"[\"bob@example.com\"]": …}`, a change at the sensitive path itself under
 * `""`), value_type `object`; the sensitive path covers it, so redaction then replaces each value
 * whole and the keys end up dropped, hashed or sealed with the values.
 *
 * Changes diffValues computed from snapshots are never under a sensitive path (the normalizer
 * compares those whole: `wholeAt`); this is for the changes producers write themselves. `[*]`
 * matches any index: under `cards[*].number`, `cards[2].number.last4` becomes `cards[2].number`.
 * With nested sensitive paths the outermost wins. Other changes are returned as they are, and the
 * list keeps its order, a merged change in the place of the first change it merges.
 */
export function collapseChangesUnderSensitivePaths(
  changes: readonly FieldChange[],
  sensitiveFields: readonly string[],
): FieldChange[] {
  if (changes.length === 0 || sensitiveFields.length === 0) return [...changes]
  const patterns = parsePathPatterns(sensitiveFields)
  const located = changes.map((change) => {
    const path = parsePath(change.path)
    const depth = sensitiveDepthOf(patterns, path)
    return { change, path, at: depth === undefined ? undefined : formatPath(path.slice(0, depth)), depth }
  })
  // Only where some change lies strictly below: a change exactly at a sensitive path reveals nothing.
  const collapsedAt = new Set(
    located.flatMap(({ path, at, depth }) => (at !== undefined && depth! < path.length ? [at] : [])),
  )
  if (collapsedAt.size === 0) return [...changes]

  const groups = new Map<string, Member[]>()
  const merged: (FieldChange | { at: string; members: Member[] })[] = []
  for (const { change, path, at, depth } of located) {
    if (at === undefined || !collapsedAt.has(at)) {
      merged.push(change)
      continue
    }
    let members = groups.get(at)
    if (members === undefined) {
      members = []
      groups.set(at, members)
      merged.push({ at, members })
    }
    members.push({ below: path.slice(depth), change })
  }
  return merged.map((item) => ('members' in item ? mergedChange(item.at, item.members) : item))
}

/**
 * The length of the shortest sensitive pattern covering `path`, or undefined when none does.
 * event-model parses `[*]` into a symbol (its anyIndex), which matches any index.
 */
function sensitiveDepthOf(patterns: PathPatterns, path: readonly PathSegment[]): number | undefined {
  let depth: number | undefined
  for (const pattern of patterns) {
    if (pattern.length > path.length || (depth !== undefined && pattern.length >= depth)) continue
    const covers = pattern.every((segment, i) =>
      typeof segment === 'symbol' ? typeof path[i] === 'number' : segment === path[i],
    )
    if (covers) depth = pattern.length
  }
  return depth
}

function mergedChange(path: string, members: readonly Member[]): FieldChange {
  const side = (field: 'old_value' | 'new_value'): string | null => {
    const present = members.filter((member) => member.change[field] !== null)
    // Null only when every merged change lacks this side: all appeared, or all disappeared.
    if (present.length === 0) return null
    const value = new Map<string, JsonTree>(
      present.map(({ below, change }) => [
        formatPath(below),
        parseJsonText(change[field] as string, `the change at ${path}`),
      ]),
    )
    return writeJsonText(value, { sortKeys: false })
  }
  return { path, old_value: side('old_value'), new_value: side('new_value'), value_type: 'object' }
}
