import { describe, expect, it } from 'vitest'
import { eventListing, sqlListing, tableLines, type ApiEvent } from './queryOutput.js'
import { terminalSafe } from './terminalText.js'

describe('terminalSafe', () => {
  it('shows control characters, DEL and bidi overrides as escapes, and leaves other text alone', () => {
    expect(terminalSafe('\u001b[31mred\u001b[0m')).toBe('\\x1b[31mred\\x1b[0m')
    expect(terminalSafe('a\nb\r\tc\u0000\u0007\u007f')).toBe('a\\nb\\r\\tc\\x00\\x07\\x7f')
    // C1 controls: U+009B is the 8-bit CSI, which some terminals obey like ESC [.
    expect(terminalSafe('\u0085\u009b2J')).toBe('\\x85\\x9b2J')
    expect(terminalSafe('invoice\u202Efdp.exe \u2066x\u2069 \u202A\u202B\u202C\u202D \u2067\u2068')).toBe(
      'invoice\\u202efdp.exe \\u2066x\\u2069 \\u202a\\u202b\\u202c\\u202d \\u2067\\u2068',
    )
    expect(terminalSafe('Zoë 李 → "ok" \\ 😀')).toBe('Zoë 李 → "ok" \\ 😀')
  })
})

describe('table output', () => {
  it("prints an actor name's ANSI escape sequence escaped, never raw, and keeps the row one line", () => {
    const event: ApiEvent = {
      event_id: 'e1',
      occurred_at: '2024-03-15T10:00:00.000Z',
      tenant: 'acme',
      // Clears the screen, then writes a fake line in green.
      actor: { type: 'user', id: 'u-7', display_name: 'Sam\u001b[2J\u001b[H\u001b[32mroot\nOK' },
      action: { kind: 'update', name: 'customer.update' },
      category: 'business',
      object: { type: 'customer', id: 'c-1', label: null },
      changes: [{ path: 'tier', old_value: '"gold\u202E"', new_value: '"platinum"' }],
      outcome: { status: 'success', reason: null },
    }
    const lines = tableLines(eventListing([event]), 200)
    expect(lines).toHaveLength(2)
    // Nothing left for the terminal to obey: escaping again changes nothing.
    for (const line of lines) expect(terminalSafe(line)).toBe(line)
    expect(lines[1]).toContain('u-7 (Sam\\x1b[2J\\x1b[H\\x1b[32mroot\\nOK)')
    expect(lines[1]).toContain('tier: "gold\\u202e" → "platinum"')
    // Columns stay aligned on the escaped text.
    expect(lines[0]!.indexOf('ACTION')).toBe(lines[1]!.indexOf('customer.update'))
  })

  it('escapes the header too: SQL column names come from the statement', () => {
    const lines = tableLines(
      sqlListing([{ name: 'n\u001b[8m' }, { name: 'x' }], [{ 'n\u001b[8m': 1, x: 2 }]),
      80,
    )
    expect(lines[0]).toBe('n\\x1b[8m  x')
  })
})
