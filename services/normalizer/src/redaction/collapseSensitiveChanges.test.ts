import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEventJson, type AuditEvent, type FieldChange } from '@audit-pipeline/event-model'
import { openLocalKeyStore } from '@audit-pipeline/field-encryption'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import fc from 'fast-check'
import { describe, expect, it, onTestFinished } from 'vitest'
import { applyRedactionPolicy } from './applyRedactionPolicy.js'
import { collapseChangesUnderSensitivePaths } from './collapseSensitiveChanges.js'
import { parseRedactionPolicy } from './redactionPolicy.js'

const change = (
  path: string,
  oldValue: string | null,
  newValue: string | null,
  type = 'string',
): FieldChange => ({
  path,
  old_value: oldValue,
  new_value: newValue,
  value_type: type as FieldChange['value_type'],
})

const valueOf = (text: string | null): unknown => JSON.parse(text ?? 'null')

describe('collapseChangesUnderSensitivePaths', () => {
  it('merges bracketed keys under a sensitive map into one change at the map', () => {
    const changes = [
      change('customer.emails["bob@example.com"]', null, '"work"'),
      change('customer.emails["carol@example.com"]', '"home"', null),
    ]
    expect(collapseChangesUnderSensitivePaths(changes, ['customer.emails'])).toEqual([
      {
        path: 'customer.emails',
        old_value: '{"[\\"carol@example.com\\"]":"home"}',
        new_value: '{"[\\"bob@example.com\\"]":"work"}',
        value_type: 'object',
      },
    ])
  })

  it('merges dotted keys, at any depth below the sensitive path', () => {
    const changes = [change('ssn.alice_smith', '"1"', '"2"'), change('ssn.bob.digits.last4', null, '"6789"')]
    const [merged, ...rest] = collapseChangesUnderSensitivePaths(changes, ['ssn'])
    expect(rest).toEqual([])
    expect(merged).toMatchObject({ path: 'ssn', value_type: 'object' })
    expect(valueOf(merged!.old_value)).toEqual({ alice_smith: '1' })
    expect(valueOf(merged!.new_value)).toEqual({ alice_smith: '2', 'bob.digits.last4': '6789' })
  })

  it('merges array items under a sensitive array, and items of every array matched by [*]', () => {
    const emails = [
      change('emails[0]', '"a@example.com"', '"b@example.com"'),
      change('emails[3]', null, '"c@example.com"'),
    ]
    expect(collapseChangesUnderSensitivePaths(emails, ['emails']).map((c) => c.path)).toEqual(['emails'])

    const cards = [
      change('cards[0].number.last4', '"1111"', '"2222"'),
      change('cards[0].number.brand', '"visa"', '"amex"'),
      change('cards[2].number["4111 1111"]', null, 'true', 'boolean'),
      change('cards[2].holder', '"Bob"', '"Robert"'),
    ]
    const merged = collapseChangesUnderSensitivePaths(cards, ['cards[*].number'])
    expect(merged.map((c) => c.path)).toEqual(['cards[0].number', 'cards[2].number', 'cards[2].holder'])
    expect(valueOf(merged[1]!.new_value)).toEqual({ '["4111 1111"]': true })
    expect(merged[1]!.old_value).toBeNull()
    expect(merged[2]).toBe(cards[3])
  })

  it('merges a change at the sensitive path itself with those under it, and uses the outermost path', () => {
    const changes = [
      change('customer', '{}', '{"emails":{}}', 'object'),
      change('customer.emails["bob@example.com"]', null, '"work"'),
    ]
    const [merged, ...rest] = collapseChangesUnderSensitivePaths(changes, ['customer.emails', 'customer'])
    expect(rest).toEqual([])
    expect(merged!.path).toBe('customer')
    expect(valueOf(merged!.new_value)).toEqual({ '': { emails: {} }, 'emails["bob@example.com"]': 'work' })
  })

  it('keeps the order, a merged change where its first part was, and every other change as it is', () => {
    const changes = [
      change('a', '1', '2', 'number'),
      change('secrets.x', '1', '2', 'number'),
      change('b', '1', '2', 'number'),
      change('secrets.y', '1', '2', 'number'),
      change('secrets', null, '"whole"'),
      change('secretsAside', '1', '2', 'number'),
    ]
    const merged = collapseChangesUnderSensitivePaths(changes, ['secrets'])
    expect(merged.map((c) => c.path)).toEqual(['a', 'secrets', 'b', 'secretsAside'])
    expect(merged[0]).toBe(changes[0])
    expect(merged[3]).toBe(changes[5])
  })

  it('changes nothing when no change lies under a sensitive path', () => {
    const changes = [
      change('customer.emails', null, '{"x":1}', 'object'),
      change('customer.name', '"a"', '"b"'),
    ]
    expect(collapseChangesUnderSensitivePaths(changes, ['customer.emails'])).toEqual(changes)
    expect(collapseChangesUnderSensitivePaths(changes, [])).toEqual(changes)
    // A whole container holding the sensitive path keeps its path: redaction replaces the part inside.
    expect(collapseChangesUnderSensitivePaths(changes, ['customer.emails.x'])).toEqual(changes)
  })

  it('keeps numbers and keys as written in the merged value', () => {
    const changes = [change('m["__proto__"]', null, '12345678901234567891', 'number')]
    expect(collapseChangesUnderSensitivePaths(changes, ['m'])[0]?.new_value).toBe(
      '{"__proto__":12345678901234567891}',
    )
  })
})

/** The ticket's creation (schemas/examples), for a whole event to redact. */
const created: AuditEvent = {
  recorded_at: Date.parse('2024-03-17T00:00:00Z'),
  ...parseEventJson(JSON.parse(ticketExampleLines()[0] ?? '')),
}

describe('collapseChangesUnderSensitivePaths: no key below a sensitive path survives redaction', () => {
  /** Keys that are data: marked, so the test finds them wherever they end up. */
  const secretKey = fc.string({ maxLength: 12 }).map((text) => `SECRET${Buffer.from(text).toString('hex')}`)
  const below = fc.array(fc.oneof(secretKey, fc.nat({ max: 5 })), { minLength: 1, maxLength: 3 })
  const value = fc.oneof(
    fc.constant(null),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  )
  const sensitive = ['customer.emails', 'cards[*].number', 'notes']
  const roots: (string | number)[][] = [
    ['customer', 'emails'],
    ['cards', 0, 'number'],
    ['cards', 7, 'number'],
    ['notes'],
  ]

  it.each(['drop', 'hash', 'encrypt'])('with %s, whatever changes a producer writes', async (method) => {
    const policy = parseRedactionPolicy(
      `default: { method: ${method}, sensitive_fields: ${JSON.stringify(sensitive)} }`,
      'r.yaml',
      { hmacKey: 'k', fieldKeys: true },
    )
    const directory = mkdtempSync(join(tmpdir(), 'normalizer-keys-'))
    onTestFinished(() => rmSync(directory, { recursive: true, force: true }))
    const keys = openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32) })
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...roots), below, value, value), { minLength: 1, maxLength: 8 }),
        async (parts) => {
          const changes = parts.flatMap(([root, rest, oldValue, newValue]) =>
            oldValue === null && newValue === null
              ? []
              : [change(pathOf([...root, ...rest]), oldValue, newValue)],
          )
          const redacted = await applyRedactionPolicy(
            { ...created, changes, before: null, after: null },
            policy,
            keys,
          )
          expect(JSON.stringify(redacted)).not.toContain('SECRET')
          for (const { path } of redacted.changes) {
            expect(['customer.emails', 'notes'].includes(path) || /^cards\[\d\]\.number$/.test(path)).toBe(
              true,
            )
          }
        },
      ),
    )
  })
})

/** A path as event-model writes it: names bare, other keys quoted, indexes in brackets. */
function pathOf(segments: readonly (string | number)[]): string {
  return segments
    .map((segment, i) => {
      if (typeof segment === 'number') return `[${segment}]`
      if (/^[A-Za-z0-9_-]+$/.test(segment)) return i === 0 ? segment : `.${segment}`
      return `[${JSON.stringify(segment)}]`
    })
    .join('')
}
