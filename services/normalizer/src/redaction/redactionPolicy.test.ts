import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  defaultRedactionPolicy,
  parseRedactionPolicy,
  policyEncrypts,
  tenantRedactionOf,
} from './redactionPolicy.js'

const hmacKey = 'normalizer-test-key'

const policyYaml = `
default: { method: drop, sensitive_fields: [title] }
tenants:
  witify: { method: hash, sensitive_fields: [solution] }
`

const policy = parseRedactionPolicy(policyYaml, 'redaction.yaml', { hmacKey })

describe('parseRedactionPolicy', () => {
  it('reads the default and each tenant, with the key for hash', () => {
    expect(policy.default).toEqual({ sensitiveFields: ['title'], method: { mode: 'drop' } })
    expect([...policy.tenants]).toEqual([
      ['witify', { sensitiveFields: ['solution'], method: { mode: 'hash', hmacKey } }],
    ])
    expect(policyEncrypts(policy)).toBe(false)
  })

  it('drops nothing beyond each event’s own fields for an empty file', () => {
    expect(parseRedactionPolicy('', 'redaction.yaml')).toEqual(defaultRedactionPolicy)
  })

  it('reads JSON as well', () => {
    const json = JSON.stringify({ tenants: { acme: { sensitive_fields: ['cards[*].number'] } } })
    expect(parseRedactionPolicy(json, 'redaction.json').tenants.get('acme')).toEqual({
      sensitiveFields: ['cards[*].number'],
      method: { mode: 'drop' },
    })
  })

  it('reads encrypt with its subject, actor by default, when a key store is configured', () => {
    const encrypting = parseRedactionPolicy(
      [
        'default: { method: encrypt, sensitive_fields: [customer] }',
        'tenants:',
        '  acme: { method: encrypt, subject: record }',
        '  globex: { method: encrypt, subject: "attribute:customer_id" }',
        '  initech: { method: drop }',
      ].join('\n'),
      'redaction.yaml',
      { fieldKeys: true },
    )
    expect(encrypting.default).toEqual({
      sensitiveFields: ['customer'],
      method: { mode: 'encrypt', subject: { kind: 'actor' } },
    })
    expect(encrypting.tenants.get('acme')?.method).toEqual({ mode: 'encrypt', subject: { kind: 'record' } })
    expect(encrypting.tenants.get('globex')?.method).toEqual({
      mode: 'encrypt',
      subject: { kind: 'attribute', name: 'customer_id' },
    })
    expect(policyEncrypts(encrypting)).toBe(true)
    // A tenant's own rule replaces the default, whatever its method.
    expect(tenantRedactionOf(encrypting, 'initech')).toEqual({
      sensitiveFields: [],
      method: { mode: 'drop' },
    })
    expect(tenantRedactionOf(encrypting, 'unlisted')).toBe(encrypting.default)
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
      'tenants:\n  witify: { method: mask }',
      /^redaction\.yaml: tenants\.witify\.method: expected drop, hash or encrypt/,
    ],
    [
      'an unknown method in the default',
      'default: { method: mask }',
      /^redaction\.yaml: default\.method: expected drop, hash or encrypt/,
    ],
    [
      'a subject that is not one',
      'tenants:\n  witify: { method: encrypt, subject: customer }',
      /^redaction\.yaml: tenants\.witify\.subject: 'customer' is not a data subject; expected actor, record or attribute:<name>/,
    ],
    [
      'an attribute subject without a name',
      'tenants:\n  witify: { method: encrypt, subject: "attribute:" }',
      /^redaction\.yaml: tenants\.witify\.subject: 'attribute:' is not a data subject/,
    ],
    [
      'a subject that is not text',
      'tenants:\n  witify: { method: encrypt, subject: [actor] }',
      /^redaction\.yaml: tenants\.witify\.subject: expected actor, record or attribute:<name>/,
    ],
    [
      'a subject with drop',
      'tenants:\n  witify: { method: drop, subject: actor }',
      /^redaction\.yaml: tenants\.witify\.subject: only method encrypt takes a subject \(this entry uses drop\)/,
    ],
    [
      'a subject with hash',
      'default: { method: hash, subject: record }',
      /^redaction\.yaml: default\.subject: only method encrypt takes a subject \(this entry uses hash\)/,
    ],
    [
      'a subject without a method (drop by default)',
      'tenants:\n  witify: { subject: actor }',
      /^redaction\.yaml: tenants\.witify\.subject: only method encrypt takes a subject/,
    ],
    ['text that is not YAML', 'tenants: [witify', /^redaction\.yaml: not valid YAML or JSON/],
  ])('names the file and the entry for %s', (_, text, message) => {
    expect(() => parseRedactionPolicy(text, 'redaction.yaml', { hmacKey, fieldKeys: true })).toThrow(message)
  })

  it('reads the README’s example as it is written', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const example = /## Redaction\n[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    const read = parseRedactionPolicy(example, 'README.md', { hmacKey, fieldKeys: true })
    expect([...read.tenants.keys()]).toEqual(['acme', 'globex'])
    expect(read.tenants.get('acme')?.sensitiveFields).toEqual(['customer.email', 'cards[*].number'])
  })

  it('refuses hash without a key, naming the entry and the variable', () => {
    expect(() => parseRedactionPolicy(policyYaml, 'redaction.yaml')).toThrow(
      /^redaction\.yaml: tenants\.witify\.method: hash needs a secret key: set NORMALIZER_REDACTION_HMAC_KEY/,
    )
    expect(() =>
      parseRedactionPolicy('default: { method: hash }', 'redaction.yaml', { hmacKey: '' }),
    ).toThrow(/^redaction\.yaml: default\.method: hash needs a secret key/)
  })

  it('refuses encrypt without a key store, naming the entry and both settings', () => {
    const text = 'tenants:\n  acme: { method: encrypt, sensitive_fields: [customer.email] }'
    expect(() => parseRedactionPolicy(text, 'redaction.yaml', { hmacKey })).toThrow(
      /^redaction\.yaml: tenants\.acme\.method: encrypt needs a key store: set FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE/,
    )
    expect(() =>
      parseRedactionPolicy('default: { method: encrypt }', 'r.yaml', { fieldKeys: false }),
    ).toThrow(
      /^r\.yaml: default\.method: encrypt needs a key store: set FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE/,
    )
  })
})

describe('the policy npm start runs with (deploy/normalizer/redaction.yaml)', () => {
  it('seals every tenant’s sensitive values under the actor’s key', () => {
    const file = new URL('../../../../deploy/normalizer/redaction.yaml', import.meta.url)
    const shipped = parseRedactionPolicy(readFileSync(file, 'utf8'), 'deploy/normalizer/redaction.yaml', {
      fieldKeys: true,
    })
    expect(policyEncrypts(shipped)).toBe(true)
    expect(shipped.default).toEqual({
      sensitiveFields: [],
      method: { mode: 'encrypt', subject: { kind: 'actor' } },
    })
  })
})
