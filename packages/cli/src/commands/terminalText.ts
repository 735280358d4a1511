/**
 * Text from the audit trail (actor names, SQL column names, dead-letter messages) as a terminal
 * may show it. A terminal obeys control characters it is sent: an escape sequence in an actor's
 * name can recolour the output, move the cursor, rewrite earlier lines or retitle the window, and
 * a bidi override makes the rest of the line read in another order than it is. Each such
 * character is shown as an escape instead (`\x1b`, `\n`, `\u202e`), so the table shows what is
 * stored, and the row stays one line.
 *
 * Escaped: C0 controls (U+0000–U+001F), DEL (U+007F), C1 controls (U+0080–U+009F), the bidi
 * embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
 */
export function terminalSafe(text: string): string {
  let shown = ''
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    shown += isUnsafe(code) ? escapeOf(char, code) : char
  }
  return shown
}

const namedEscapes: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function isUnsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  )
}

function escapeOf(char: string, code: number): string {
  const named = namedEscapes[char]
  if (named !== undefined) return named
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`
}
