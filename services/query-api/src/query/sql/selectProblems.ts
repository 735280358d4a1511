import { readableTables } from '../../access/tenantTableFilters.js'
import { walkAst, type AstNode } from './astTree.js'
import {
  aggregateCombinators,
  aggregateFunctionNames,
  refusedFunctionNames,
  scalarFunctionNames,
  syntaxFunctionNames,
  tableFunctionNames,
} from './sqlFunctionNames.js'

/** What the statement may name besides the audit tables: read from ClickHouse before the check. */
export type SqlCatalog = {
  /** The audit database: the only one a name may be qualified with. */
  database: string
  /** Every table, view and dictionary of that database. */
  tablesOfDatabase: ReadonlySet<string>
  /** Every database ClickHouse has (`system`, `INFORMATION_SCHEMA`, other tests' …). */
  databases: ReadonlySet<string>
}

/**
 * The node types a SELECT is made of. Anything else, new syntax included, is refused by name:
 * where we cannot show a construct is safe, it does not run.
 */
const allowedNodeTypes = new Set([
  'SelectWithUnionQuery',
  'SelectIntersectExceptQuery',
  'SelectQuery',
  'ExpressionList',
  'Identifier',
  'TableIdentifier',
  'Literal',
  'Function',
  'Subquery',
  'Asterisk',
  'QualifiedAsterisk',
  'ColumnsRegexpMatcher',
  'ColumnsListMatcher',
  'QualifiedColumnsRegexpMatcher',
  'QualifiedColumnsListMatcher',
  'ColumnsTransformerList',
  'ColumnsExceptTransformer',
  'ColumnsReplaceTransformer',
  'TablesInSelectQuery',
  'TablesInSelectQueryElement',
  'TableExpression',
  'TableJoin',
  'ArrayJoin',
  'OrderByElement',
  'WithElement',
  'WindowDefinition',
  'WindowListElement',
  'SampleRatio',
])

const lower = (names: readonly string[]) => new Set(names.map((name) => name.toLowerCase()))
const refused = lower(refusedFunctionNames)
const scalars = lower([...scalarFunctionNames, ...syntaxFunctionNames])
const aggregates = lower(aggregateFunctionNames)
const tableFunctions = lower(tableFunctionNames)
const combinators = aggregateCombinators.map((suffix) => suffix.toLowerCase())
const readable = new Set<string>(readableTables)
const tableList = readableTables.join(', ')

/**
 * Why `root` (ClickHouse's own parse of the statement, see astTree.ts) may not run over the
 * audit tables; none means it may. The statement is one plain SELECT or set operation over them:
 *
 * - nothing after the query (INTO OUTFILE, FORMAT), no SETTINGS anywhere, no APPLY();
 * - every function on the allowed list (sqlFunctionNames.ts), table functions included;
 * - every table an audit table of the audit database, or a WITH name;
 * - no name qualified by another database (`system.tables` after IN, in a JOIN, anywhere).
 */
export function selectProblems(root: AstNode, catalog: SqlCatalog): string[] {
  if (!/^Select(WithUnion|IntersectExcept)Query$/.test(root.type)) {
    return [`only SELECT statements are accepted (this one is ${root.type})`]
  }
  const problems: string[] = []
  for (const extra of root.children.slice(1)) problems.push(trailingClauseProblem(extra))
  for (const { node, parent } of walkAst(root)) {
    const problem = nodeProblem(node, parent, catalog)
    if (problem !== undefined) problems.push(problem)
  }
  return [...new Set(problems)]
}

function trailingClauseProblem(node: AstNode): string {
  if (node.type === 'Literal') return 'INTO OUTFILE is not allowed: the answer comes back in the response'
  if (node.type === 'Set') return settingsProblem
  if (node.type === 'Identifier') return 'FORMAT is not allowed: the API chooses the format of its answer'
  return `${node.type} after the query is not allowed`
}

const settingsProblem =
  'SETTINGS is not allowed: the limits and tenant filters a statement runs under are the API’s'

function nodeProblem(node: AstNode, parent: AstNode | undefined, catalog: SqlCatalog): string | undefined {
  switch (node.type) {
    case 'Set':
      return settingsProblem
    case 'Function':
      return parent?.type === 'TableExpression'
        ? tableFunctionProblem(node.payload)
        : functionProblem(node.payload)
    case 'TableIdentifier':
      return tableProblem(node.payload, catalog)
    case 'Identifier':
      return identifierProblem(node.payload, catalog)
    default:
      if (allowedNodeTypes.has(node.type)) return undefined
      if (node.type === 'ColumnsApplyTransformer') {
        return 'APPLY() is not allowed: it calls a function named at run time, which cannot be checked'
      }
      return `${node.type} is not allowed in the SQL endpoint's statements`
  }
}

function functionProblem(name: string): string | undefined {
  const key = name.toLowerCase()
  if (refused.has(key) || key.startsWith('dict'))
    return `function ${name}() is not allowed: ${whyRefused(key)}`
  if (scalars.has(key) || isAggregate(key)) return undefined
  if (tableFunctions.has(key)) return `${name}() is a table function: use it in FROM`
  return `function ${name}() is not on the SQL endpoint's list of allowed functions`
}

function tableFunctionProblem(name: string): string | undefined {
  const key = name.toLowerCase()
  if (tableFunctions.has(key)) return undefined
  return `table function ${name}() is not allowed: ${whyRefused(key)}; read ${tableList}`
}

function whyRefused(key: string): string {
  if (key === 'merge') return 'it reads tables under other names, without the tenant filter'
  if (key.startsWith('dict') || key.startsWith('joinget')) return 'it reads other tables'
  if (['getsetting', 'getserversetting', 'hostname'].includes(key)) return 'it reads the server'
  if (key.startsWith('sleep')) return 'it holds the server without doing work'
  return 'it reads outside the audit tables'
}

/** An aggregate function, alone or with combinators (`uniqIf`, `sumArrayIf`, `avgOrNull`). */
function isAggregate(key: string): boolean {
  let name = key
  for (let depth = 0; depth < 4; depth++) {
    if (aggregates.has(name)) return true
    const suffix = combinators.find(
      (combinator) => name.length > combinator.length && name.endsWith(combinator),
    )
    if (suffix === undefined) return false
    name = name.slice(0, -suffix.length)
  }
  return false
}

function tableProblem(name: string, catalog: SqlCatalog): string | undefined {
  const dot = name.indexOf('.')
  const [database, table] = dot === -1 ? [undefined, name] : [name.slice(0, dot), name.slice(dot + 1)]
  const allowed =
    database === undefined
      ? readable.has(table) || !catalog.tablesOfDatabase.has(table)
      : database === catalog.database && readable.has(table)
  return allowed ? undefined : `table ${name} is not readable here: read ${tableList}`
}

/**
 * A column or, after IN, a table. A name qualified by a database other than the audit one
 * reads that database (`x IN system.tables`); a bare name of a table of the audit database
 * that is not an audit table reads that table (`x IN schema_migrations`).
 */
function identifierProblem(name: string, catalog: SqlCatalog): string | undefined {
  const parts = name.split('.')
  const first = parts[0] ?? ''
  if (parts.length > 1 && first === catalog.database) {
    return readable.has(parts[1] ?? '')
      ? undefined
      : `table ${parts.slice(0, 2).join('.')} is not readable here: read ${tableList}`
  }
  if (parts.length > 1 && catalog.databases.has(first)) {
    return `database ${first} is not readable here: read ${tableList}`
  }
  if (catalog.tablesOfDatabase.has(first) && !readable.has(first)) {
    return `table ${first} is not readable here: read ${tableList}`
  }
  return undefined
}
