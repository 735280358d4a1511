/**
 * The analyst's SQL with one trailing `;` removed, or a reason to refuse it before it reaches
 * ClickHouse: empty, or more than one statement. A `;` inside a string, a quoted name or a comment
 * does not end a statement. Embedded ClickHouse runs every statement of a text it is given, so
 * "SELECT 1; DROP TABLE x" must never get there (readonly would refuse the DROP as well).
 */
export function singleStatement(sql: string): { ok: true; sql: string } | { ok: false; reason: string } {
  const ends: number[] = []
  const words: string[] = []
  let i = 0
  while (i < sql.length) {
    const char = sql[i]
    const next = sql[i + 1]
    if (char === "'" || char === '"' || char === '`') {
      i = endOfQuoted(sql, i, char)
    } else if (char === '-' && next === '-') {
      i = lineEnd(sql, i)
    } else if (char === '#' && (next === ' ' || next === '!')) {
      i = lineEnd(sql, i)
    } else if (char === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2)
      i = close === -1 ? sql.length : close + 2
    } else if (char !== undefined && /[A-Za-z_]/.test(char)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))?.[0] ?? char
      words.push(word.toUpperCase())
      i += word.length
    } else {
      if (char === ';') ends.push(i)
      i++
    }
  }
  const last = ends.at(-1)
  const body = last !== undefined && sql.slice(last + 1).trim() === '' ? sql.slice(0, last) : sql
  if (body.trim() === '') return { ok: false, reason: 'the SQL is empty' }
  if (ends.some((end) => end < body.length)) {
    return { ok: false, reason: 'one statement per request: the SQL holds a ";" between statements' }
  }
  // Embedded ClickHouse would write the file on the API's host; readonly does not stop it.
  if (words.includes('OUTFILE'))
    return { ok: false, reason: 'INTO OUTFILE is not allowed: the answer comes back in the response' }
  return { ok: true, sql: body.trim() }
}

function endOfQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1
  while (i < sql.length) {
    if (sql[i] === '\\') i += 2
    else if (sql[i] === quote && sql[i + 1] === quote) i += 2
    else if (sql[i] === quote) return i + 1
    else i++
  }
  return sql.length
}

function lineEnd(sql: string, start: number): number {
  const end = sql.indexOf('\n', start)
  return end === -1 ? sql.length : end + 1
}
