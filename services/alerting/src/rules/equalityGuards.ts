/** `event.<path> == "literal"`, a condition a filter cannot be true without. */
export type EqualityGuard = { path: readonly string[]; value: string | boolean }

type AstNode = { op: string; args: unknown }

/**
 * The equalities with a literal that a filter requires: conjuncts of its top-level `&&` of the form
 * `event.a.b == "x"` (either way round). The engine indexes rules by one of them, so an event is
 * only evaluated against rules that can match it: a deployment's rules are mostly about one
 * tenant, action or object type. Anything else (||, !, in, functions) is left to evaluation.
 */
export function equalityGuards(ast: unknown): EqualityGuard[] {
  const node = ast as AstNode
  if (node.op === '&&' && Array.isArray(node.args)) return node.args.flatMap((arg) => equalityGuards(arg))
  if (node.op !== '==' || !Array.isArray(node.args)) return []
  const [left, right] = node.args as [AstNode, AstNode]
  const guard = (field: AstNode, literal: AstNode): EqualityGuard[] => {
    const path = eventPath(field)
    if (!path || literal.op !== 'value') return []
    const value = literal.args
    return typeof value === 'string' || typeof value === 'boolean' ? [{ path, value }] : []
  }
  return [...guard(left, right), ...guard(right, left)]
}

/** `event.a.b` → ['a', 'b']; anything else → undefined. */
function eventPath(node: AstNode): string[] | undefined {
  const path: string[] = []
  let current = node
  while (current.op === '.' && Array.isArray(current.args)) {
    const [inner, field] = current.args as [AstNode, unknown]
    if (typeof field !== 'string') return undefined
    path.unshift(field)
    current = inner
  }
  return current.op === 'id' && current.args === 'event' && path.length > 0 ? path : undefined
}
