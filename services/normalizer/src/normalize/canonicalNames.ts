import { actionKinds, type ActionKind } from '@audit-pipeline/event-model'

/**
 * Words producers use for an action kind, by the kind they mean. Matched after trimming and
 * lower-casing, as are the canonical kinds themselves (`UPDATE` is `update`). Only words with one
 * meaning are here: `upsert` or `save` could be a create or an update, so they are refused rather
 * than guessed.
 */
export const actionKindAliases = {
  create: ['created', 'add', 'added', 'insert', 'inserted', 'new'],
  update: ['updated', 'modify', 'modified', 'change', 'changed', 'edit', 'edited'],
  delete: ['deleted', 'remove', 'removed', 'destroy', 'destroyed'],
  read: ['view', 'viewed', 'access', 'accessed'],
  operation: ['execute', 'executed'],
} as const satisfies Record<ActionKind, readonly string[]>

const actionKindByWord: ReadonlyMap<string, ActionKind> = new Map<string, ActionKind>([
  ...actionKinds.map((kind) => [kind, kind] as const),
  ...actionKinds.flatMap((kind) => actionKindAliases[kind].map((alias) => [alias, kind] as const)),
])

/** The ActionKind a producer's word means, or undefined when it is none of them nor an alias. */
export function canonicalActionKind(word: string): ActionKind | undefined {
  return actionKindByWord.get(word.trim().toLowerCase())
}

/** Every word `canonicalActionKind` understands, for error messages. */
export const knownActionKindWords: readonly string[] = [...actionKindByWord.keys()]

/**
 * The category as the policy spells it: trimmed and compared without case (`Security` is
 * `security`). A category the policy does not list comes back trimmed and lower-cased, for
 * eventProblems to refuse with the list of accepted ones.
 */
export function canonicalCategory(category: string, accepted: readonly string[]): string {
  const folded = category.trim().toLowerCase()
  return accepted.find((known) => known.toLowerCase() === folded) ?? folded
}
