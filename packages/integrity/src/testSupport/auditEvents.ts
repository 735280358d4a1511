import type { Actor, AuditEvent } from '@audit-pipeline/event-model'
import fc from 'fast-check'

/** A plain, realistic event: the README's worked example and the synthetic chains use it. */
export function sampleEvent(index = 0): AuditEvent {
  return {
    event_id: `0190a4c2-7b1e-7c3d-8e4f-${index.toString(16).padStart(12, '0')}`,
    occurred_at: 1_767_225_600_000 + index * 1000,
    recorded_at: 1_767_225_600_250 + index * 1000,
    tenant: 'acme',
    source: { service: 'billing', instance: 'billing-7d9f', version: '4.2.0' },
    actor: {
      type: 'user',
      id: 'u-1842',
      display_name: 'Zoë Müller',
      roles: ['admin'],
      ip: '203.0.113.7',
      user_agent: null,
      session_id: null,
    },
    on_behalf_of: null,
    action: { kind: 'update', name: 'invoice.update' },
    category: 'business',
    object: { type: 'invoice', id: `inv-${1000 + index}`, id2: null, id3: null, label: null },
    changes: [{ path: 'amount', old_value: '100', new_value: '120', value_type: 'number' }],
    before: null,
    after: null,
    outcome: { status: 'success', reason: null },
    severity: 'info',
    correlation: { trace_id: null, request_id: 'req-77' },
    attributes: { region: 'eu-west-1' },
    sensitive_fields: [],
  }
}

/**
 * Text with what makes canonical writers differ: lone surrogates (both halves), astral
 * characters, escapes JSON must write (quote, backslash, controls), characters it must not
 * escape (U+2028, DEL), and plain ASCII.
 */
const unit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\u{1f600}', 'é', 'ｚ') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ufeff'),
  },
)
export const anyText = fc.string({ unit, maxLength: 12 })
const nullableText = fc.option(anyText, { nil: null })
const epochMs = fc.oneof(fc.integer(), fc.maxSafeInteger())

const actor: fc.Arbitrary<Actor> = fc.record({
  type: fc.constantFrom('user', 'service', 'system'),
  id: anyText,
  display_name: nullableText,
  roles: fc.array(anyText, { maxLength: 3 }),
  ip: nullableText,
  user_agent: nullableText,
  session_id: nullableText,
})

/** Any event the type allows, with hostile text everywhere and empty or many optional parts. */
export const anyAuditEvent: fc.Arbitrary<AuditEvent> = fc.record({
  event_id: anyText,
  occurred_at: epochMs,
  recorded_at: epochMs,
  tenant: anyText,
  source: fc.record({ service: anyText, instance: nullableText, version: nullableText }),
  actor,
  on_behalf_of: fc.option(actor, { nil: null }),
  action: fc.record({
    kind: fc.constantFrom('create', 'update', 'delete', 'read', 'operation'),
    name: anyText,
  }),
  category: anyText,
  object: fc.record({
    type: anyText,
    id: anyText,
    id2: nullableText,
    id3: nullableText,
    label: nullableText,
  }),
  changes: fc.array(
    fc.record({
      path: anyText,
      old_value: nullableText,
      new_value: nullableText,
      value_type: fc.constantFrom('string', 'number', 'boolean', 'date', 'null', 'object', 'array'),
    }),
    { maxLength: 4 },
  ),
  before: nullableText,
  after: nullableText,
  outcome: fc.record({ status: fc.constantFrom('success', 'failure', 'denied'), reason: nullableText }),
  severity: fc.constantFrom('debug', 'info', 'notice', 'warning', 'error', 'critical'),
  correlation: fc.record({ trace_id: nullableText, request_id: nullableText }),
  attributes: fc.oneof(
    fc.dictionary(anyText, anyText, { maxKeys: 3 }),
    fc.dictionary(anyText, anyText, { minKeys: 20, maxKeys: 60 }),
  ),
  sensitive_fields: fc.array(anyText, { maxLength: 3 }),
})

/** `value` with `f` applied to every string in it, object keys included. */
export function mapStrings<T>(value: T, f: (text: string) => string): T {
  if (typeof value === 'string') return f(value) as T
  if (Array.isArray(value)) return value.map((item: unknown) => mapStrings(item, f)) as T
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [f(key), mapStrings(item, f)])) as T
}
