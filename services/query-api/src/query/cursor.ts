/** Where a page ended: the last row's sort key. Opaque to clients (base64url JSON). */
export type PageCursor = { occurredAt: string; eventId: string }

const dateTime64Text = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.occurredAt, cursor.eventId]), 'utf8').toString('base64url')
}

/** The cursor, or undefined when the text is not one encodeCursor wrote. */
export function decodeCursor(text: string): PageCursor | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined
  const [occurredAt, eventId] = parsed as unknown[]
  if (typeof occurredAt !== 'string' || !dateTime64Text.test(occurredAt)) return undefined
  if (typeof eventId !== 'string' || !uuid.test(eventId)) return undefined
  return { occurredAt, eventId }
}
