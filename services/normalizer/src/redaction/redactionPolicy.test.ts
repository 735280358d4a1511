import { createHmac } from 'node:crypto'
import { parseEventJson, redactEvent, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it } from 'vitest'
import {
  applyRedactionPolicy,
  defaultRedactionPolicy,
  parseRedactionPolicy,
  type RedactionPolicy,
} from './redactionPolicy.js'

/** The ticket 9548-B1 story (schemas/examples), in canonical form: created, priority raised, lowered with a solution. */
const [created, , lowered] = ticketExampleLines().map((line): AuditEvent => ({
  recorded_at: Date.parse('2024-03-17T00:00:00Z'),
  ...parseEventJson(JSON.parse(line)),
})) as [AuditEvent, AuditEvent, AuditEvent]

const solution = "Use the print dialog's Save as PDF until the fix ships."
const hmacKey = 'normalizer-test-key'

/** What the `hash` method writes for a value: the HMAC of its canonical JSON text (redactMethod.ts). */
const hashOf = (value: unknown, key = hmacKey) =>
  `hmac-sha256:${createHmac('sha256', key).update(JSON.stringify(value), 'utf8').digest('hex')}`

const policyYaml = `
default: { method: drop, sensitive_fields: [title] }
tenants:
  witify: { method: hash, sensitive_fields: [solution] }
`

const policy = parseRedactionPolicy(policyYaml, 'redaction.yaml', hmacKey)

const snapshot = (text: string | null): Record<string, unknown> =>
  JSON.parse(text ?? 'null') as Record<string, unknown>

describe('parseRedactionPolicy', () => {
  it('reads the default and each tenant, with the key for hash', () => {
    expect(policy.default).toEqual({ sensitiveFields: ['title'], method: { mode: 'drop' } })
    expect([...policy.tenants]).toEqual([
      ['witify', { sensitiveFields: ['solution'], method: { mode: 'hash', hmacKey } }],
    ])
  })

  it('drops nothing beyond each event’s own fields for an empty file', () => {
    expect(parseRedactionPolicy('', 'redaction.yaml', undefined)).toEqual(defaultRedactionPolicy)
  })

  it('reads JSON as well', () => {
    const json = JSON.stringify({ tenants: { acme: { sensitive_fields: ['cards[*].number'] } } })
    expect(parseRedactionPolicy(json, 'redaction.json', undefined).tenants.get('acme')).toEqual({
      sensitiveFields: ['cards[*].number'],
      method: { mode: 'drop' },
    })
  })

  it.each([
    [
      'an unknown key of a tenant',
      'tenants:\n  witify: { method: drop, sensitive_field: [solution] }',
      /^redaction\.yaml: tenants\.witify: .*sensitive_field/,
    ],
    [
      'an unknown top-level key',
      'tenant:\n  witify: { method: drop }',
      /^redaction\.yaml: \(file\): .*tenant/,
    ],
    [
      'a path that is not a field path',
      'tenants:\n  witify: { sensitive_fields: [customer..email] }',
      /^redaction\.yaml: tenants\.witify\.sensitive_fields: invalid field path "customer\.\.email"/,
    ],
    [
      'an empty path',
      'tenants:\n  witify: { sensitive_fields: [""] }',
      /^redaction\.yaml: tenants\.witify\.sensitive_fields\.0: a path must not be empty/,
    ],
    [
      'an unknown method',
      'tenants:\n  witify: { method: encrypt }',
      /^redaction\.yaml: tenants\.witify\.method: expected drop or hash/,
    ],
    [
      'an unknown method in the default',
      'default: { method: mask }',
      /^redaction\.yaml: default\.method: expected drop or hash/,
    ],
    ['text that is not YAML', 'tenants: [witify', /^redaction\.yaml: not valid YAML or JSON/],
  ])('names the file and the entry for %s', (_, text, message) => {
    expect(() => parseRedactionPolicy(text, 'redaction.yaml', hmacKey)).toThrow(message)
  })

  it('refuses hash without a key, naming the entry and the variable', () => {
    expect(() => parseRedactionPolicy(policyYaml, 'redaction.yaml', undefined)).toThrow(
      /^redaction\.yaml: tenants\.witify\.method: hash needs a secret key: set NORMALIZER_REDACTION_HMAC_KEY/,
    )
    expect(() => parseRedactionPolicy('default: { method: hash }', 'redaction.yaml', '')).toThrow(
      /^redaction\.yaml: default\.method: hash needs a secret key/,
    )
  })
})

describe('applyRedactionPolicy', () => {
  it('adds the tenant’s paths to sensitive_fields and hashes their values in changes and snapshots', () => {
    const redacted = applyRedactionPolicy(lowered, policy)
    expect(redacted.sensitive_fields).toEqual(['solution'])
    expect(redacted.changes).toEqual([
      lowered.changes[0], // priority: not sensitive, untouched
      {
        path: 'solution',
        old_value: null,
        new_value: JSON.stringify(hashOf(solution)),
        value_type: 'string',
      },
    ])
    expect(snapshot(redacted.after)).toEqual({ ...snapshot(lowered.after), solution: hashOf(solution) })
    expect(redacted.before).toBe(lowered.before) // had no solution
    // Nothing but the sensitive parts changes.
    expect({ ...redacted, changes: [], after: null, sensitive_fields: [] }).toEqual({
      ...lowered,
      changes: [],
      after: null,
      sensitive_fields: [],
    })
  })

  it('does not modify the event it is given', () => {
    const copy = structuredClone(lowered)
    applyRedactionPolicy(lowered, policy)
    expect(lowered).toEqual(copy)
  })

  it('applies the default to tenants not listed, and only the listed tenant’s rule to a listed one', () => {
    const other = applyRedactionPolicy({ ...created, tenant: 'acme' }, policy)
    expect(other.sensitive_fields).toEqual(['title'])
    expect(other.changes.find((change) => change.path === 'title')?.new_value).toBe('"[redacted]"')
    expect(snapshot(other.after)['title']).toBe('[redacted]')

    // witify's rule replaces the default rather than adding to it: its titles stay visible.
    const witify = applyRedactionPolicy(created, policy)
    expect(witify.sensitive_fields).toEqual(['solution'])
    expect(witify.changes).toEqual(created.changes)
    expect(snapshot(witify.after)['title']).toBe('Export to PDF fails')
  })

  it('adds only the paths the event does not already list', () => {
    const event = { ...lowered, sensitive_fields: ['solution'] }
    expect(applyRedactionPolicy(event, policy).sensitive_fields).toEqual(['solution'])
    const withOwn = { ...lowered, sensitive_fields: ['priority'] }
    expect(applyRedactionPolicy(withOwn, policy).sensitive_fields).toEqual(['priority', 'solution'])
  })

  it('redacts an event’s own sensitive fields with the tenant’s method even when the policy adds none', () => {
    const event = { ...lowered, sensitive_fields: ['priority'] }
    const redacted = applyRedactionPolicy(event, defaultRedactionPolicy)
    expect(redacted.changes[0]).toEqual({
      path: 'priority',
      old_value: '"[redacted]"',
      new_value: '"[redacted]"',
      value_type: 'string',
    })
  })

  it('returns an event with nothing sensitive as it is', () => {
    expect(applyRedactionPolicy(lowered, defaultRedactionPolicy)).toBe(lowered)
  })

  it('hashes deterministically: equal across calls and equal for one value wherever it appears', () => {
    const first = applyRedactionPolicy(structuredClone(lowered), policy)
    const second = applyRedactionPolicy(structuredClone(lowered), policy)
    expect(second).toEqual(first)
    expect(JSON.parse(first.changes[1]?.new_value ?? 'null')).toBe(snapshot(first.after)['solution'])
    // Another key gives another string.
    const otherKey = parseRedactionPolicy(policyYaml, 'redaction.yaml', 'another-key')
    expect(applyRedactionPolicy(lowered, otherKey).after).not.toBe(first.after)
  })

  it('leaves an event a producer already redacted as it is, whatever the method', () => {
    const byProducer = redactEvent(
      { ...lowered, sensitive_fields: ['solution'] },
      {
        mode: 'hash',
        hmacKey: 'producer-key',
      },
    )
    expect(snapshot(byProducer.after)['solution']).toBe(hashOf(solution, 'producer-key'))
    const drop = parseRedactionPolicy(
      'tenants: { witify: { sensitive_fields: [solution] } }',
      'r.yaml',
      undefined,
    )
    expect(applyRedactionPolicy(byProducer, policy)).toEqual(byProducer)
    expect(applyRedactionPolicy(byProducer, drop)).toEqual(byProducer)
  })

  it('is idempotent: a second pass changes nothing', () => {
    const once = applyRedactionPolicy(lowered, policy)
    expect(applyRedactionPolicy(once, policy)).toEqual(once)
    const dropped = applyRedactionPolicy({ ...created, tenant: 'acme' }, policy)
    expect(applyRedactionPolicy(dropped, policy)).toEqual(dropped)
  })

  it('redacts paths under a sensitive object and array items by pattern', () => {
    const event: AuditEvent = {
      ...created,
      tenant: 'shop',
      changes: [],
      before: null,
      after: JSON.stringify({
        customer: { email: 'a@example.com', name: 'A' },
        cards: [{ number: '4111', exp: '12/30' }],
      }),
    }
    const shop: RedactionPolicy = parseRedactionPolicy(
      'tenants: { shop: { sensitive_fields: [customer.email, "cards[*].number"] } }',
      'redaction.yaml',
      undefined,
    )
    expect(snapshot(applyRedactionPolicy(event, shop).after)).toEqual({
      customer: { email: '[redacted]', name: 'A' },
      cards: [{ number: '[redacted]', exp: '12/30' }],
    })
  })
})
