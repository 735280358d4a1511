import { describe, expect, it } from 'vitest'
import { astTree, type AstNode } from './astTree.js'
import { astLines } from './checkedSelect.js'
import { selectProblems, type SqlCatalog } from './selectProblems.js'

const catalog: SqlCatalog = {
  database: 'audit',
  tablesOfDatabase: new Set([
    'audit_events',
    'audit_changes',
    'audit_changes_mv',
    'audit_record_latest',
    'schema_migrations',
  ]),
  databases: new Set(['audit', 'system', 'INFORMATION_SCHEMA', 'other']),
}

/** A tree from lines written as EXPLAIN AST prints them. */
function tree(...lines: string[]): AstNode {
  const result = astTree(lines)
  if (!result.ok) throw new Error(result.reason)
  return result.root
}

/** `SELECT <expression lines> FROM <table lines>`, as EXPLAIN AST prints it. */
function select(expression: string[], table: string[] = ['TableIdentifier audit_events']): AstNode {
  const indent = (lines: string[], by: number) => lines.map((line) => ' '.repeat(by) + line)
  return tree(
    'SelectWithUnionQuery (children 1)',
    ' ExpressionList (children 1)',
    '  SelectQuery (children 2)',
    '   ExpressionList (children 1)',
    ...indent(expression, 4),
    '   TablesInSelectQuery (children 1)',
    '    TablesInSelectQueryElement (children 1)',
    '     TableExpression (children 1)',
    ...indent(table, 6),
  )
}

describe('astTree', () => {
  it('rebuilds the tree with names, aliases and children', () => {
    const root = tree(
      'SelectWithUnionQuery (children 1)',
      ' ExpressionList (children 2)',
      "  Literal 'a (b)' (alias x y)",
      '  Function count (children 1)',
      '   ExpressionList',
    )
    expect(root.children[0]!.children.map(({ type, payload, alias }) => ({ type, payload, alias }))).toEqual([
      { type: 'Literal', payload: "'a (b)'", alias: 'x y' },
      { type: 'Function', payload: 'count', alias: undefined },
    ])
  })

  it('refuses lines a quoted name with a line break could add, however they are indented', () => {
    const forged = [
      // An identifier `a\n  Function file` would print a second line of the caller's choosing.
      [
        'SelectWithUnionQuery (children 1)',
        ' ExpressionList (children 1)',
        '  Identifier a',
        '  Function file',
      ],
      ['SelectWithUnionQuery (children 1)', ' ExpressionList (children 1)', '  Identifier a', '   Literal 1'],
      ['SelectWithUnionQuery (children 1)', ' ExpressionList (children 1)', '  Identifier a', 'b (alias c)'],
      [
        'SelectWithUnionQuery (children 1)',
        ' ExpressionList (children 1)',
        '  Identifier a (children 1)',
        '   Literal 1',
      ],
      ['SelectWithUnionQuery (children 1)', ' ExpressionList (children 2)', '  Identifier a'],
      ['SelectWithUnionQuery (children 1)', ' ExpressionList (children 1)', '  Identifier a', 'SelectQuery'],
      [' SelectWithUnionQuery'],
      ['"SelectWithUnionQuery (children 1)'],
    ]
    for (const lines of forged) expect(astTree(lines), lines.join(' | ')).toMatchObject({ ok: false })
    expect(astTree([])).toMatchObject({ ok: false, reason: 'the statement is empty' })
  })

  it('reads the lines embedded ClickHouse quotes as CSV', () => {
    expect(astLines('"SelectWithUnionQuery (children 1)"\n" Literal \'say ""hi""\'"\n')).toEqual([
      'SelectWithUnionQuery (children 1)',
      ` Literal 'say "hi"'`,
    ])
  })
})

describe('selectProblems', () => {
  it('accepts a SELECT over the audit tables with allowed functions, aggregates and combinators', () => {
    const root = select(
      [
        'Function countIf (children 1)',
        ' ExpressionList (children 1)',
        '  Function equals (children 1)',
        '   ExpressionList (children 2)',
        '    Identifier outcome',
        "    Literal 'denied'",
      ],
      ['TableIdentifier audit.audit_events (alias e)'],
    )
    expect(selectProblems(root, catalog)).toEqual([])
    for (const name of [
      'uniqExactIf',
      'sumArray',
      'avgOrNull',
      'groupArrayDistinct',
      'toStartOfHour',
      'JSONExtractString',
      'lambda',
      'COUNT',
    ]) {
      expect(selectProblems(select([`Function ${name}`]), catalog), name).toEqual([])
    }
    // Where records kept at temporal logging level 1 are, plain and qualified, and after IN.
    for (const table of ['audit_record_latest', 'audit.audit_record_latest']) {
      expect(selectProblems(select(['Asterisk'], [`TableIdentifier ${table}`]), catalog), table).toEqual([])
      expect(selectProblems(select([`Identifier ${table}`]), catalog), table).toEqual([])
    }
    // A WITH name is not a table of the database: ClickHouse resolves it to the WITH.
    expect(selectProblems(select(['Asterisk'], ['TableIdentifier recent']), catalog)).toEqual([])
    expect(
      selectProblems(select(['Asterisk'], ['Function numbers (children 1)', ' ExpressionList']), catalog),
    ).toEqual([])
  })

  it('refuses what reads the host, other tables or the server, by name, wherever it stands', () => {
    const refused: [AstNode, RegExp][] = [
      [
        select(['Function file (children 1)', ' ExpressionList']),
        /function file\(\) is not allowed: it reads outside the audit tables/,
      ],
      [select(['Function FILE']), /function FILE\(\) is not allowed/],
      [select(['Function dictGetString']), /dictGetString\(\) is not allowed: it reads other tables/],
      [select(['Function joinGet']), /joinGet\(\) is not allowed/],
      [select(['Function getSetting']), /it reads the server/],
      [select(['Function aiGenerate']), /aiGenerate\(\) is not on the SQL endpoint's list/],
      [select(['Function fileIf']), /fileIf\(\) is not on/],
      [select(['Function sleepEachRow']), /sleepEachRow\(\) is not allowed/],
      [select(['Function numbers']), /numbers\(\) is a table function: use it in FROM/],
      [
        select(['Asterisk'], ['Function merge']),
        /table function merge\(\) is not allowed: it reads tables under other names/,
      ],
      [select(['Asterisk'], ['Function url']), /table function url\(\) is not allowed/],
      [select(['Asterisk'], ['Function remoteSecure']), /table function remoteSecure\(\) is not allowed/],
      [select(['Asterisk'], ['TableIdentifier system.tables']), /table system.tables is not readable here/],
      [
        select(['Asterisk'], ['TableIdentifier schema_migrations']),
        /table schema_migrations is not readable here/,
      ],
      [
        select(['Asterisk'], ['TableIdentifier other.audit_events']),
        /table other.audit_events is not readable/,
      ],
      [select(['Identifier system.tables']), /database system is not readable here/],
      [select(['Identifier INFORMATION_SCHEMA.tables.x']), /database INFORMATION_SCHEMA is not readable/],
      [select(['Identifier audit.schema_migrations']), /table audit.schema_migrations is not readable/],
      [select(['Identifier schema_migrations']), /table schema_migrations is not readable/],
      [
        select([
          'Asterisk (children 1)',
          ' ColumnsTransformerList (children 1)',
          '  ColumnsApplyTransformer',
        ]),
        /APPLY\(\) is not allowed/,
      ],
      [select(['Set']), /SETTINGS is not allowed/],
      [select(['CreateQuery']), /CreateQuery is not allowed/],
    ]
    for (const [root, reason] of refused) {
      const problems = selectProblems(root, catalog)
      expect(problems.join('; ')).toMatch(reason)
    }
  })

  it('refuses anything but one SELECT, and clauses after it', () => {
    expect(selectProblems(tree('InsertQuery'), catalog)).toEqual([
      'only SELECT statements are accepted (this one is InsertQuery)',
    ])
    const outfile = tree(
      'SelectWithUnionQuery (children 3)',
      ' ExpressionList',
      " Literal '/tmp/x'",
      ' Identifier CSV',
    )
    expect(selectProblems(outfile, catalog)).toEqual([
      'INTO OUTFILE is not allowed: the answer comes back in the response',
      'FORMAT is not allowed: the API chooses the format of its answer',
    ])
  })
})
