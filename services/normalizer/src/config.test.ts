import { readFileSync } from 'node:fs'
import { ConfigError } from '@audit-pipeline/config'
import { defaultEventPolicy } from '@audit-pipeline/event-model'
import { defaultDeadLetterGuard, defaultOutageSettings } from '@audit-pipeline/kafka'
import { describe, expect, it, vi } from 'vitest'
import { loadNormalizerConfig, type ConfigFiles, type NormalizerConfig } from './config.js'
import { defaultLevelsPolicy } from './levels/levelsPolicy.js'
import { defaultRedactionPolicy } from './redaction/redactionPolicy.js'

/** The least the normalizer starts with. */
const minimalEnv = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
  NORMALIZER_ROUTES_FILE: '/etc/audit/routes.yaml',
}

/** A file system that has only the given files; reading anything else fails as a missing file does. */
function filesOf(contents: Record<string, string>): ConfigFiles & { read: string[] } {
  const read: string[] = []
  return {
    read,
    readFile(path) {
      read.push(path)
      const text = contents[path]
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`)
      return text
    },
  }
}

const noFiles = filesOf({})

function load(env: Record<string, string | undefined>, files: ConfigFiles = noFiles): NormalizerConfig {
  return loadNormalizerConfig(env, files)
}

/** Each problem of the ConfigError `env` gives, as `SETTING: message`. */
function problemsOf(env: Record<string, string | undefined>, files: ConfigFiles = noFiles): string[] {
  try {
    load(env, files)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.setting}: ${p.message}`)
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadNormalizerConfig: defaults', () => {
  it('fills every setting the minimal environment leaves out, reading no file', () => {
    const files = filesOf({})
    const config = load(minimalEnv, files)
    const { adapters, ...rest } = config
    expect(rest).toEqual({
      kafka: { clientId: 'audit-pipeline', brokers: ['127.0.0.1:9092'] },
      schemaRegistry: { url: 'http://127.0.0.1:8081' },
      input: { topics: ['audit.events'] },
      groupId: 'audit-normalizer',
      routesFile: '/etc/audit/routes.yaml',
      deadLetterTopic: 'audit.dlq',
      dedupWindowMs: 600_000,
      dedupMaxIds: 1_000_000,
      maxEventBytes: 1_000_000,
      flushMaxBytes: 786_432,
      partitionsConsumedConcurrently: 6,
      consumer: {
        outage: defaultOutageSettings,
        deadLetterGuard: { ...defaultDeadLetterGuard, pauseMs: 600_000 },
      },
      sessionTimeoutMs: 30_000,
      shutdownDeadlineMs: 20_000,
      createTopics: { partitions: 6 },
      autoRegisterSchema: true,
      levels: defaultLevelsPolicy,
      redaction: defaultRedactionPolicy,
      fieldKeys: undefined,
      policy: defaultEventPolicy,
      ops: { host: '127.0.0.1', port: 9464, logLevel: 'info' },
    })
    expect(adapters.map((adapter) => adapter.name)).toEqual(['audit-json', 'cloudevents'])
    // The routes file is the service's to read (and re-read on SIGHUP), not the config's.
    expect(files.read).toEqual([])
  })

  it('reads every setting given, trimming list items', () => {
    const config = load({
      ...minimalEnv,
      NORMALIZER_INPUT_TOPICS: ' audit.events , billing_audit ',
      NORMALIZER_GROUP_ID: 'normalizer-eu',
      NORMALIZER_DEAD_LETTER_TOPIC: 'audit.dlq.eu',
      NORMALIZER_DEDUP_WINDOW_MS: '0',
      NORMALIZER_DEDUP_MAX_IDS: '5000',
      NORMALIZER_MAX_EVENT_BYTES: '500000',
      NORMALIZER_FLUSH_MAX_BYTES: '250000',
      NORMALIZER_CONCURRENT_PARTITIONS: '2',
      NORMALIZER_SHUTDOWN_DEADLINE_MS: '29999',
      NORMALIZER_CREATE_TOPICS: 'false',
      NORMALIZER_TOPIC_PARTITIONS: '12',
      NORMALIZER_SCHEMA_AUTO_REGISTER: 'false',
      KAFKA_OUTAGE_GIVE_UP_MS: '120000',
      DLQ_GUARD_MAX_SHARE: '0.9',
      DLQ_GUARD_MIN_RECORDS: '50',
      DLQ_GUARD_WINDOW_MS: '30000',
      DLQ_GUARD_PAUSE_MS: '0',
      OPS_PORT: '9500',
      LOG_LEVEL: 'debug',
    })
    expect(config).toMatchObject({
      input: { topics: ['audit.events', 'billing_audit'] },
      groupId: 'normalizer-eu',
      deadLetterTopic: 'audit.dlq.eu',
      dedupWindowMs: 0,
      dedupMaxIds: 5000,
      maxEventBytes: 500_000,
      flushMaxBytes: 250_000,
      partitionsConsumedConcurrently: 2,
      shutdownDeadlineMs: 29_999,
      createTopics: false,
      autoRegisterSchema: false,
      consumer: {
        outage: { giveUpAfterMs: 120_000 },
        deadLetterGuard: { maxShare: 0.9, minDeadLetters: 50, windowMs: 30_000, pauseMs: 0 },
      },
      ops: { host: '127.0.0.1', port: 9500, logLevel: 'debug' },
    })
  })

  it('treats an empty variable as unset', () => {
    const config = load({ ...minimalEnv, NORMALIZER_DEDUP_WINDOW_MS: '', NORMALIZER_INPUT_TOPICS: '  ' })
    expect(config.dedupWindowMs).toBe(600_000)
    expect(config.input).toEqual({ topics: ['audit.events'] })
  })
})

describe('loadNormalizerConfig: input pattern', () => {
  it('matches only whole topic names, alternatives included', () => {
    const { input } = load({ ...minimalEnv, NORMALIZER_INPUT_TOPIC_PATTERN: 'audit\\.events|billing\\..*' })
    if (!('pattern' in input)) throw new Error('expected a pattern')
    expect(input.pattern).toBeInstanceOf(RegExp)
    const names = ['audit.events', 'billing.audit', 'audit.events.old', 'old.audit.events', 'x.billing.y']
    expect(names.filter((name) => input.pattern.test(name))).toEqual(['audit.events', 'billing.audit'])
  })
})

describe('loadNormalizerConfig: problems name the variable', () => {
  it.each([
    ['NORMALIZER_DEDUP_WINDOW_MS', 'abc', 'expected a whole number, e.g. 600000'],
    ['NORMALIZER_DEDUP_WINDOW_MS', '-5', 'expected a whole number, e.g. 600000'],
    ['NORMALIZER_DEDUP_MAX_IDS', '0', 'expected a whole number above 0, e.g. 1000000'],
    ['NORMALIZER_FLUSH_MAX_BYTES', '1.5', 'expected a whole number, e.g. 786432'],
    ['NORMALIZER_CREATE_TOPICS', 'yes', 'expected true or false'],
    [
      'NORMALIZER_DEAD_LETTER_TOPIC',
      'dead letters',
      'expected a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -)',
    ],
  ])('%s=%s', (name, value, message) => {
    expect(problemsOf({ ...minimalEnv, [name]: value })).toEqual([`${name}: ${message}`])
  })

  it('refuses a topic list with a name Kafka does not allow, or an empty item', () => {
    for (const topics of ['audit.events,audit events', 'audit.events,,billing', 'audit/events']) {
      expect(problemsOf({ ...minimalEnv, NORMALIZER_INPUT_TOPICS: topics })).toEqual([
        'NORMALIZER_INPUT_TOPICS: expected comma-separated Kafka topic names (1 to 249 of a-z A-Z 0-9 . _ -)',
      ])
    }
  })

  it('refuses a pattern that is not a regular expression', () => {
    const problems = problemsOf({ ...minimalEnv, NORMALIZER_INPUT_TOPIC_PATTERN: 'audit.(events' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^NORMALIZER_INPUT_TOPIC_PATTERN: not a regular expression: /)
  })

  it('refuses a pattern that only compiles inside the anchoring group (it would match every topic)', () => {
    const problems = problemsOf({ ...minimalEnv, NORMALIZER_INPUT_TOPIC_PATTERN: 'audit)|(.*' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^NORMALIZER_INPUT_TOPIC_PATTERN: not a regular expression: /)
  })

  it('lists every problem at once: connections, normalizer settings and missing values together', () => {
    expect(
      problemsOf({
        KAFKA_BROKERS: 'not a broker',
        NORMALIZER_DEDUP_WINDOW_MS: 'abc',
        NORMALIZER_ROUTES_FILE: 'r.yaml',
      }),
    ).toEqual([
      expect.stringMatching(/^KAFKA_BROKERS: expected a comma-separated list of host:port/),
      'SCHEMA_REGISTRY_URL: required: the Confluent-compatible registry URL',
      expect.stringMatching(/^NORMALIZER_DEDUP_WINDOW_MS: expected a whole number/),
    ])
  })

  it('refuses topics and a pattern together', () => {
    expect(
      problemsOf({
        ...minimalEnv,
        NORMALIZER_INPUT_TOPICS: 'audit.events',
        NORMALIZER_INPUT_TOPIC_PATTERN: 'audit\\..*',
      }),
    ).toEqual([
      'NORMALIZER_INPUT_TOPIC_PATTERN: set either NORMALIZER_INPUT_TOPICS or NORMALIZER_INPUT_TOPIC_PATTERN, not both',
    ])
  })

  it.each([
    ['KAFKA_BROKERS', 'KAFKA_BROKERS: required: host:port,…'],
    ['SCHEMA_REGISTRY_URL', 'SCHEMA_REGISTRY_URL: required: the Confluent-compatible registry URL'],
    ['NORMALIZER_ROUTES_FILE', 'NORMALIZER_ROUTES_FILE: required: the routes file (YAML or JSON)'],
  ] as const)('requires %s', (name, problem) => {
    const env: Record<string, string | undefined> = { ...minimalEnv }
    delete env[name]
    expect(problemsOf(env)).toEqual([problem])
    expect(problemsOf({ ...minimalEnv, [name]: ' ' })).toEqual([problem])
  })

  it('lists both missing connections at once', () => {
    expect(problemsOf({ NORMALIZER_ROUTES_FILE: 'routes.yaml' })).toEqual([
      'KAFKA_BROKERS: required: host:port,…',
      'SCHEMA_REGISTRY_URL: required: the Confluent-compatible registry URL',
    ])
  })

  it('keeps the shutdown deadline below the consumer session timeout', () => {
    expect(load({ ...minimalEnv, NORMALIZER_SHUTDOWN_DEADLINE_MS: '29999' }).shutdownDeadlineMs).toBe(29_999)
    for (const deadline of ['30000', '45000']) {
      const problems = problemsOf({ ...minimalEnv, NORMALIZER_SHUTDOWN_DEADLINE_MS: deadline })
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatch(/^NORMALIZER_SHUTDOWN_DEADLINE_MS: must be below .*\(30000 ms\)/)
    }
  })

  it('compares the shutdown deadline with the session timeout configured', () => {
    const env = {
      ...minimalEnv,
      NORMALIZER_SESSION_TIMEOUT_MS: '60000',
      NORMALIZER_SHUTDOWN_DEADLINE_MS: '45000',
    }
    expect(load(env)).toMatchObject({ sessionTimeoutMs: 60_000, shutdownDeadlineMs: 45_000 })
    const problems = problemsOf({ ...env, NORMALIZER_SESSION_TIMEOUT_MS: '40000' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^NORMALIZER_SHUTDOWN_DEADLINE_MS: must be below .*\(40000 ms\)/)
  })

  it('keeps the session timeout within the broker bounds', () => {
    for (const timeout of ['5999', '300001']) {
      const problems = problemsOf({ ...minimalEnv, NORMALIZER_SESSION_TIMEOUT_MS: timeout })
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatch(/^NORMALIZER_SESSION_TIMEOUT_MS: expected 6000 to 300000/)
    }
  })

  it('refuses a misspelt NORMALIZER_* variable instead of using the default, listing the known ones', () => {
    const problems = problemsOf({ ...minimalEnv, NORMALIZER_DEDUP_WINDOW: '1000' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^NORMALIZER_DEDUP_WINDOW: unknown setting; the normalizer reads: /)
    expect(problems[0]).toContain('NORMALIZER_DEDUP_WINDOW_MS')
    expect(problems[0]).not.toContain('OPS_PORT')
  })

  it('ignores an unknown NORMALIZER_* variable that is empty, and variables of other services', () => {
    expect(() =>
      load({ ...minimalEnv, NORMALIZER_OLD_SETTING: '', SINK_BATCH_MAX_AGE_MS: '5' }),
    ).not.toThrow()
  })

  it('puts the variable in the error message itself', () => {
    expect(() => load({ ...minimalEnv, NORMALIZER_DEDUP_WINDOW_MS: 'abc' })).toThrow(
      /NORMALIZER_DEDUP_WINDOW_MS: expected a whole number/,
    )
  })
})

describe('loadNormalizerConfig: Debezium adapter file', () => {
  const debeziumYaml = [
    'tenant: witify',
    'tables:',
    '  public.tickets: { objectType: ticket, actorColumn: updated_by, labelColumn: title }',
  ].join('\n')

  it('adds the Debezium adapter configured by the file, read through the injected files', () => {
    const files = filesOf({ '/etc/audit/debezium.yaml': debeziumYaml })
    const config = load({ ...minimalEnv, NORMALIZER_DEBEZIUM_FILE: '/etc/audit/debezium.yaml' }, files)
    expect(files.read).toEqual(['/etc/audit/debezium.yaml'])
    expect(config.adapters.map((adapter) => adapter.name)).toEqual(['audit-json', 'cloudevents', 'debezium'])

    // The file's settings are the adapter's: tenant and object type come from it.
    const created = JSON.parse(
      readFileSync(new URL('adapters/fixtures/debezium-ticket-create.json', import.meta.url), 'utf8'),
    ) as unknown
    const debezium = config.adapters[2]!
    expect(debezium.recognizes(created)).toBe(true)
    const outcome = debezium.toEvents({ body: created, headers: {} })
    if (outcome.status !== 'events') throw new Error(`expected events, got ${outcome.status}`)
    expect(outcome.drafts.map((draft) => [draft.tenant, draft.object.type, draft.actor.id])).toEqual([
      ['witify', 'ticket', expect.any(String)],
    ])
  })

  it('names the variable and the file when the file cannot be read', () => {
    const problems = problemsOf({ ...minimalEnv, NORMALIZER_DEBEZIUM_FILE: '/etc/audit/missing.yaml' })
    expect(problems).toEqual([
      "NORMALIZER_DEBEZIUM_FILE: cannot read /etc/audit/missing.yaml: ENOENT: no such file or directory, open '/etc/audit/missing.yaml'",
    ])
  })

  it('names the variable, the file and the setting when the configuration is unusable', () => {
    const files = filesOf({ 'debezium.yaml': 'category: business\n' })
    expect(problemsOf({ ...minimalEnv, NORMALIZER_DEBEZIUM_FILE: 'debezium.yaml' }, files)).toEqual([
      'NORMALIZER_DEBEZIUM_FILE: debezium.yaml: debezium.tenant: required: a non-empty string',
    ])
  })

  it('names the variable when the file is not YAML', () => {
    const files = filesOf({ 'debezium.yaml': 'tenant: [witify\n' })
    const problems = problemsOf({ ...minimalEnv, NORMALIZER_DEBEZIUM_FILE: 'debezium.yaml' }, files)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^NORMALIZER_DEBEZIUM_FILE: debezium\.yaml: /)
  })
})

describe('loadNormalizerConfig: redaction file', () => {
  const hashPolicy = 'tenants:\n  witify: { method: hash, sensitive_fields: [customer.email] }\n'

  it('reads the policy with the HMAC key', () => {
    const files = filesOf({ 'redaction.yaml': hashPolicy })
    const config = load(
      {
        ...minimalEnv,
        NORMALIZER_REDACTION_FILE: 'redaction.yaml',
        NORMALIZER_REDACTION_HMAC_KEY: 'a-long-secret',
      },
      files,
    )
    expect(files.read).toEqual(['redaction.yaml'])
    expect(config.redaction.tenants.get('witify')).toEqual({
      sensitiveFields: ['customer.email'],
      method: { mode: 'hash', hmacKey: 'a-long-secret' },
    })
    expect(config.redaction.default).toEqual(defaultRedactionPolicy.default)
  })

  it('refuses method hash without NORMALIZER_REDACTION_HMAC_KEY, naming it', () => {
    const files = filesOf({ 'redaction.yaml': hashPolicy })
    const readFile = vi.spyOn(files, 'readFile')
    const problems = problemsOf({ ...minimalEnv, NORMALIZER_REDACTION_FILE: 'redaction.yaml' }, files)
    expect(readFile).toHaveBeenCalledWith('redaction.yaml')
    expect(problems).toHaveLength(1)
    // The policy's own message names the file and the entry.
    expect(problems[0]).toMatch(/^NORMALIZER_REDACTION_FILE: redaction\.yaml: .*tenants\.witify\.method: /)
    expect(problems[0]).toContain('NORMALIZER_REDACTION_HMAC_KEY')
  })

  it('names the variable when the file cannot be read', () => {
    expect(problemsOf({ ...minimalEnv, NORMALIZER_REDACTION_FILE: 'gone.yaml' })).toEqual([
      "NORMALIZER_REDACTION_FILE: cannot read gone.yaml: ENOENT: no such file or directory, open 'gone.yaml'",
    ])
  })
})

describe('loadNormalizerConfig: levels file', () => {
  const levelsYaml = `
default: { temporal: 3, informative: 3 }
rules:
  - { tenant: acme, object_type: ticket, temporal: 2, informative: 2 }
  - { source: legacy-crm, informative: 1 }
`

  it('reads the levels through the injected files', () => {
    const files = filesOf({ '/etc/audit/levels.yaml': levelsYaml })
    const config = load({ ...minimalEnv, NORMALIZER_LEVELS_FILE: '/etc/audit/levels.yaml' }, files)
    expect(files.read).toEqual(['/etc/audit/levels.yaml'])
    expect(config.levels).toEqual({
      default: { temporal: 3, informative: 3 },
      rules: [
        { tenant: 'acme', objectType: 'ticket', levels: { temporal: 2, informative: 2 } },
        { source: 'legacy-crm', levels: { temporal: 3, informative: 1 } },
      ],
    })
  })

  it('names the variable, the file, the line and the entry of a bad rule', () => {
    const problemsWith = (text: string) =>
      problemsOf({ ...minimalEnv, NORMALIZER_LEVELS_FILE: 'levels.yaml' }, filesOf({ 'levels.yaml': text }))
    expect(problemsWith('rules:\n  - { informative: 1 }\n')).toEqual([
      'NORMALIZER_LEVELS_FILE: levels.yaml:2:5: rules[0]: a rule needs at least one of tenant, object_type, source (default is for every other event)',
    ])
    expect(problemsWith('rules:\n  - { source: crm, temporal: 4 }\n')).toEqual([
      'NORMALIZER_LEVELS_FILE: levels.yaml:2:30: rules[0].temporal: expected 1, 2 or 3',
    ])
  })

  it('names the variable when the file cannot be read', () => {
    expect(problemsOf({ ...minimalEnv, NORMALIZER_LEVELS_FILE: 'gone.yaml' })).toEqual([
      "NORMALIZER_LEVELS_FILE: cannot read gone.yaml: ENOENT: no such file or directory, open 'gone.yaml'",
    ])
  })
})

describe('loadNormalizerConfig: field keys and the encrypt method', () => {
  const encryptPolicy =
    'tenants:\n  acme: { method: encrypt, subject: "attribute:customer_id", sensitive_fields: [customer] }\n'
  const fieldKeys = { FIELD_KEYS_DIR: '/var/lib/audit/keys', FIELD_KEYS_KEK_FILE: '/etc/audit/kek' }

  it('reads the key store’s settings, opening nothing: the service opens the store at start', () => {
    const files = filesOf({ 'redaction.yaml': encryptPolicy })
    const config = load({ ...minimalEnv, ...fieldKeys, NORMALIZER_REDACTION_FILE: 'redaction.yaml' }, files)
    expect(config.fieldKeys).toEqual({
      directory: '/var/lib/audit/keys',
      keyEncryptionKeyFile: '/etc/audit/kek',
    })
    expect(config.redaction.tenants.get('acme')).toEqual({
      sensitiveFields: ['customer'],
      method: { mode: 'encrypt', subject: { kind: 'attribute', name: 'customer_id' } },
    })
    expect(files.read).toEqual(['redaction.yaml'])
  })

  it.each([
    ['FIELD_KEYS_DIR', 'FIELD_KEYS_KEK_FILE'],
    ['FIELD_KEYS_KEK_FILE', 'FIELD_KEYS_DIR'],
  ] as const)('refuses %s without %s, naming the one missing', (set, missing) => {
    expect(problemsOf({ ...minimalEnv, [set]: fieldKeys[set] })).toEqual([
      `${missing}: required with ${set}: set both (the key store's folder and its key-encryption key file) or neither`,
    ])
  })

  it('refuses a policy that encrypts without a key store, naming the settings, the file and the entry', () => {
    const files = filesOf({ 'redaction.yaml': encryptPolicy })
    const problems = problemsOf({ ...minimalEnv, NORMALIZER_REDACTION_FILE: 'redaction.yaml' }, files)
    expect(problems).toEqual([
      'NORMALIZER_REDACTION_FILE: redaction.yaml: tenants.acme.method: encrypt needs a key store: set FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE (or use drop or hash)',
    ])
  })

  it('refuses a subject with another method, and a subject that is not one, naming the file and the entry', () => {
    const withDrop = filesOf({ 'redaction.yaml': 'default: { method: drop, subject: actor }\n' })
    expect(
      problemsOf({ ...minimalEnv, ...fieldKeys, NORMALIZER_REDACTION_FILE: 'redaction.yaml' }, withDrop),
    ).toEqual([
      'NORMALIZER_REDACTION_FILE: redaction.yaml: default.subject: only method encrypt takes a subject (this entry uses drop)',
    ])
    const unknown = filesOf({ 'redaction.yaml': 'default: { method: encrypt, subject: tenant }\n' })
    expect(
      problemsOf({ ...minimalEnv, ...fieldKeys, NORMALIZER_REDACTION_FILE: 'redaction.yaml' }, unknown),
    ).toEqual([
      "NORMALIZER_REDACTION_FILE: redaction.yaml: default.subject: 'tenant' is not a data subject; expected actor, record or attribute:<name>",
    ])
  })

  it('accepts the key store without a policy that encrypts', () => {
    expect(load({ ...minimalEnv, ...fieldKeys }).fieldKeys).toBeDefined()
  })
})
