const plainName = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * A database or table name as a quoted identifier. Only plain names are accepted (as
 * `@audit-pipeline/storage` does for databases), so the same tables can be written unquoted in
 * hand-written SQL and in the documented analyst queries.
 */
export function quoteName(name: string, what = 'name'): string {
  if (!plainName.test(name)) {
    throw new RangeError(
      `invalid ${what} ${JSON.stringify(name)}: expected letters, digits and _, not starting with a digit`,
    )
  }
  return `\`${name}\``
}

/** A ClickHouse string literal: backslashes and single quotes escaped. */
export function quoteText(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}
