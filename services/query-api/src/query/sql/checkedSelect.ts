import { ClickHouseError } from '@audit-pipeline/storage'
import type { AccessScope } from '../../access/accessScope.js'
import type { QueryRunner } from '../queryRunner.js'
import { astTree, type AstNode } from './astTree.js'
import { selectProblems } from './selectProblems.js'

const explainFormat = 'TabSeparatedRaw'

export type CheckedSelect = { ok: true; sql: string } | { ok: false; reasons: string[] }

/**
 * Has ClickHouse read the caller's SQL, and says whether it may run (selectProblems.ts). We do
 * not read SQL ourselves: every reader of SQL but ClickHouse's disagrees with it somewhere
 * (nested comments, `$$` strings, `//` comments…), and a disagreement is a smuggled statement.
 *
 * 1. The text goes to ClickHouse only as a string value, `formatQuerySingleLine({sql:String})`:
 *    ClickHouse parses it (one statement, or a syntax error) and writes it back. Nothing runs.
 * 2. That canonical text, one statement by construction, is explained (`EXPLAIN AST`, which
 *    parses and prints, and runs nothing) and its tree checked.
 * 3. The canonical text is what runs; the caller's own text never does.
 */
export async function checkedSelect(
  runner: QueryRunner,
  scope: AccessScope,
  database: string,
  sql: string,
  params: Record<string, unknown>,
): Promise<CheckedSelect> {
  let canonical: string
  try {
    canonical = await runner.run(
      scope,
      {
        query: 'SELECT formatQuerySingleLine({sql:String}) AS canonical',
        query_params: { sql },
        format: 'JSONEachRow',
      },
      async (result) => ((await result.json<{ canonical: string }>())[0]?.canonical ?? '').trim(),
    )
  } catch (error) {
    if (!(error instanceof ClickHouseError)) throw error
    return { ok: false, reasons: [`ClickHouse could not read the statement: ${withoutScope(error.message)}`] }
  }
  if (canonical === '') return { ok: false, reasons: ['the SQL is empty'] }
  const [lines, catalog] = await Promise.all([
    runner.run(
      scope,
      { query: `EXPLAIN AST ${canonical}`, query_params: params, format: explainFormat },
      async (result) => astLines(await result.text()),
    ),
    runner.run(
      scope,
      {
        query: `SELECT 'table' AS kind, name FROM system.tables WHERE database = {database:String}
UNION ALL SELECT 'database' AS kind, name FROM system.databases`,
        query_params: { database },
        format: 'JSONEachRow',
      },
      async (result) => result.json<{ kind: 'table' | 'database'; name: string }>(),
    ),
  ])
  const tree = astTree(lines)
  if (!tree.ok) return { ok: false, reasons: [tree.reason] }
  withoutClientFormat(tree.root)
  const names = (kind: string) => new Set(catalog.filter((row) => row.kind === kind).map((row) => row.name))
  const reasons = selectProblems(tree.root, {
    database,
    tablesOfDatabase: names('table'),
    databases: names('database'),
  })
  return reasons.length > 0 ? { ok: false, reasons } : { ok: true, sql: canonical }
}

/**
 * The lines of EXPLAIN AST's answer. A server prints them raw; embedded ClickHouse (chDB) takes
 * the client's FORMAT as the explained query's and prints the lines as CSV strings, so quotes
 * around a line are removed.
 */
export function astLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (/^".*"$/.test(line) ? line.slice(1, -1).replace(/""/g, '"') : line))
}

/**
 * The client adds `FORMAT TabSeparatedRaw` after the text it sends, and embedded ClickHouse
 * parses it into the explained query, as its last clause. It is ours: a statement with a FORMAT
 * of its own would have two, which ClickHouse refuses as a syntax error before this point.
 */
function withoutClientFormat(root: AstNode): void {
  const last = root.children.at(-1)
  if (root.children.length > 1 && last?.type === 'Identifier' && last.payload === explainFormat)
    root.children.pop()
}

/** ClickHouse's message without the echo of our wrapper (`: In scope SELECT formatQuery…(…)`). */
function withoutScope(message: string): string {
  const cut = message.search(/\.? ?: In scope SELECT formatQuerySingleLine\(/)
  return (cut === -1 ? message : `${message.slice(0, cut)}.`).trim()
}
