/** A ClickHouse string literal: backslashes and single quotes escaped, nothing else changed. */
export function quoteString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

const plainIdentifier = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * An access entity's or table's name in backquotes. Only plain names reach here (the database
 * name is checked, role names are built from it and hex), so a quote inside one is a bug.
 */
export function quoteIdentifier(name: string): string {
  if (!plainIdentifier.test(name)) {
    throw new RangeError(
      `invalid name ${JSON.stringify(name)}: expected letters, digits and _, not starting with a digit`,
    )
  }
  return `\`${name}\``
}
