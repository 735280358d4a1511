import { readableTables } from '../access/tenantTableFilters.js'

/**
 * Checks what `EXPLAIN AST` says a statement reads: one line per node, indented by depth. The SQL
 * endpoint reads the audit tables only, so that the tenant filter ClickHouse adds to each of them
 * (`additional_table_filters`) cannot be stepped around through another object:
 *
 * - the statement is a SELECT (readonly refuses writes too; this says so clearly);
 * - every table expression names an audit table, bare or qualified by the audit database, or a
 *   name that is not a table of that database (a WITH alias);
 * - no table functions: `merge()` reads tables under other names, unfiltered; `file()`, `url()`,
 *   `remote()` read outside ClickHouse.
 *
 * Returns the reasons to refuse; none means the statement may run.
 */
export function sqlTableProblems(
  astLines: readonly string[],
  database: string,
  tablesOfDatabase: ReadonlySet<string>,
): string[] {
  const nodes = astLines.map((line) => ({ depth: line.length - line.trimStart().length, text: line.trim() }))
  const root = nodes[0]?.text ?? ''
  if (!/^Select(WithUnion|IntersectExcept)Query\b/.test(root)) {
    return [`only SELECT statements are accepted (this one is ${root.split(' ')[0] || 'empty'})`]
  }
  const readable = new Set<string>(readableTables)
  const problems: string[] = []
  nodes.forEach((node, index) => {
    if (!node.text.startsWith('TableExpression')) return
    const child = nodes[index + 1]
    if (!child || child.depth <= node.depth) return
    const table = /^TableIdentifier (\S+)/.exec(child.text)?.[1]
    const tableFunction = /^Function (\S+)/.exec(child.text)?.[1]
    if (tableFunction !== undefined) {
      problems.push(`table function ${tableFunction}() is not allowed: read ${readableTables.join(', ')}`)
    } else if (table !== undefined) {
      const dot = table.indexOf('.')
      const [db, name] = dot === -1 ? [undefined, table] : [table.slice(0, dot), table.slice(dot + 1)]
      const allowed =
        db === undefined
          ? readable.has(name) || !tablesOfDatabase.has(name)
          : db === database && readable.has(name)
      if (!allowed) problems.push(`table ${table} is not readable here: read ${readableTables.join(', ')}`)
    }
  })
  return [...new Set(problems)]
}
