/** One node of ClickHouse's `EXPLAIN AST` answer. */
export type AstNode = {
  /** `SelectQuery`, `Function`, `TableIdentifier`, `Literal`, … */
  type: string
  /** What follows the type: a function's or table's name, a literal's value; '' when none. */
  payload: string
  alias?: string
  children: AstNode[]
}

export type AstTreeResult = { ok: true; root: AstNode } | { ok: false; reason: string }

const linePattern = /^( *)([A-Za-z][A-Za-z_:]*)(?: (.*))?$/
const childrenSuffix = / \(children (\d+)\)$/
const aliasMarker = ' (alias '
/** Nodes ClickHouse prints without children: names and values. */
const leafTypes = new Set(['Identifier', 'TableIdentifier', 'Literal'])

/**
 * Rebuilds the tree from `EXPLAIN AST`'s lines: one node a line, indented one space per level,
 * `(children N)` after a node with children. The dump prints names as they are, so a quoted
 * identifier holding a newline would add lines of the caller's choosing; every node must
 * therefore have exactly the children it announces, and every line must belong to the tree,
 * or the statement is refused. Forged lines cannot pass that, nor hide a real node. Iterative:
 * the depth is the statement's, bounded by ClickHouse's max_ast_depth but not trusted here.
 */
export function astTree(lines: readonly string[]): AstTreeResult {
  const malformed = (index: number, why: string): AstTreeResult => ({
    ok: false,
    reason: `the statement's syntax tree could not be read at line ${index + 1} (${why}); names with line breaks or parentheses are not accepted`,
  })
  const stack: { node: AstNode; depth: number; expected: number }[] = []
  let root: AstNode | undefined
  for (const [index, line] of lines.entries()) {
    const match = linePattern.exec(line)
    if (!match) return malformed(index, 'not a node')
    const depth = match[1]!.length
    // With its leading space, so that the suffixes below match on a bare node too.
    let rest = match[3] === undefined ? '' : ` ${match[3]}`
    let expected = 0
    const children = childrenSuffix.exec(rest)
    if (children) {
      expected = Number(children[1])
      rest = rest.slice(0, children.index)
    }
    let alias: string | undefined
    const aliasAt = rest.lastIndexOf(aliasMarker)
    if (aliasAt !== -1 && rest.endsWith(')')) {
      alias = rest.slice(aliasAt + aliasMarker.length, -1)
      rest = rest.slice(0, aliasAt)
    }
    if (/\((alias|children) /.test(rest) || (alias !== undefined && /[()]/.test(alias))) {
      return malformed(index, 'a name that looks like part of the tree')
    }
    if (expected > 0 && leafTypes.has(match[2]!)) return malformed(index, `${match[2]} with children`)
    const node: AstNode = {
      type: match[2]!,
      payload: rest.slice(1),
      ...(alias !== undefined && { alias }),
      children: [],
    }
    // Close every node this line is not inside; each must have had all its children.
    while (stack.length > 0 && stack.at(-1)!.depth >= depth) {
      const done = stack.pop()!
      if (done.node.children.length !== done.expected) return malformed(index, 'a node lacks children')
    }
    if (root === undefined) {
      if (depth !== 0) return malformed(index, 'the first node is indented')
      root = node
    } else {
      const parent = stack.at(-1)
      if (!parent || depth !== parent.depth + 1) return malformed(index, 'indented out of place')
      if (parent.node.children.length >= parent.expected) return malformed(index, 'a node has extra children')
      parent.node.children.push(node)
    }
    stack.push({ node, depth, expected })
  }
  for (const open of stack) {
    if (open.node.children.length !== open.expected) return malformed(lines.length, 'a node lacks children')
  }
  return root === undefined ? { ok: false, reason: 'the statement is empty' } : { ok: true, root }
}

/** Every node below `root`, each with its parent, without recursion. */
export function* walkAst(root: AstNode): Generator<{ node: AstNode; parent: AstNode | undefined }> {
  const pending: { node: AstNode; parent: AstNode | undefined }[] = [{ node: root, parent: undefined }]
  while (pending.length > 0) {
    const next = pending.pop()!
    yield next
    for (let i = next.node.children.length - 1; i >= 0; i--) {
      pending.push({ node: next.node.children[i]!, parent: next.node })
    }
  }
}
