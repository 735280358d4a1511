import { describe, expect, it } from 'vitest'
import { parseEraseFlags, type EraseFlags } from './eraseOptions.js'
import { recordedFieldKeys, type RunningStack } from './fieldKeysOptions.js'

const noStack: RunningStack = { stateDir: '/repo/.stack', fieldKeys: undefined }
const withStack: RunningStack = {
  stateDir: '/repo/.stack',
  fieldKeys: { directory: '/repo/.stack/field-keys', kekFile: '/repo/.stack/keys/field-keys.kek' },
}
const flags = (overrides: Partial<EraseFlags> = {}): EraseFlags => ({
  tenant: 'acme',
  subject: 'u-1001',
  inputTopic: [],
  keysDir: '/keys',
  kekFile: '/kek',
  actor: 'dpo@acme.example',
  ...overrides,
})
const parse = (f: Partial<EraseFlags>, env: Record<string, string> = {}, running = noStack) =>
  parseEraseFlags(flags(f), env, running, '/work')

describe('parseEraseFlags', () => {
  it('takes the defaults of the pipeline: audit.events in and out, the normalizer’s default group', () => {
    expect(parse({ reason: 'GDPR request 4411' })).toEqual({
      tenant: 'acme',
      subject: 'u-1001',
      reason: 'GDPR request 4411',
      actorId: 'dpo@acme.example',
      fieldKeys: {
        directory: { path: '/keys', setting: '--keys-dir' },
        kekFile: { path: '/kek', setting: '--kek-file' },
      },
      eventsTopic: 'audit.events',
      inputTopics: ['audit.events'],
      normalizerGroup: 'audit-normalizer',
      json: false,
    })
  })

  it('takes repeated --input-topic, --normalizer-group, --events-topic and --json', () => {
    expect(
      parse({
        inputTopic: ['audit.events', 'crm.raw', 'audit.events'],
        normalizerGroup: 'normalizer-eu',
        eventsTopic: 'audit.events.eu',
        json: true,
      }),
    ).toMatchObject({
      inputTopics: ['audit.events', 'crm.raw'],
      normalizerGroup: 'normalizer-eu',
      eventsTopic: 'audit.events.eu',
      json: true,
    })
  })

  it("reads the normalizer's own settings when the flags are not given", () => {
    const env = { NORMALIZER_GROUP_ID: ' normalizer-eu ', NORMALIZER_INPUT_TOPICS: 'audit.events, crm.raw' }
    expect(parse({}, env)).toMatchObject({
      inputTopics: ['audit.events', 'crm.raw'],
      normalizerGroup: 'normalizer-eu',
    })
    expect(parse({ inputTopic: ['only.this'], normalizerGroup: 'g' }, env)).toMatchObject({
      inputTopics: ['only.this'],
      normalizerGroup: 'g',
    })
  })

  it('finds the key store in the flags, else FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE, else the running npm start', () => {
    const fromEnv = { FIELD_KEYS_DIR: 'keys', FIELD_KEYS_KEK_FILE: '/etc/audit/kek' }
    expect(parse({ keysDir: undefined, kekFile: undefined }, fromEnv).fieldKeys).toEqual({
      directory: { path: '/work/keys', setting: 'FIELD_KEYS_DIR' },
      kekFile: { path: '/etc/audit/kek', setting: 'FIELD_KEYS_KEK_FILE' },
    })
    expect(parse({ keysDir: 'here', kekFile: undefined }, fromEnv, withStack).fieldKeys).toEqual({
      directory: { path: '/work/here', setting: '--keys-dir' },
      kekFile: { path: '/etc/audit/kek', setting: 'FIELD_KEYS_KEK_FILE' },
    })
    expect(parse({ keysDir: undefined, kekFile: undefined }, {}, withStack).fieldKeys).toEqual({
      directory: {
        path: '/repo/.stack/field-keys',
        setting: "FIELD_KEYS_DIR (from the running npm start's /repo/.stack/pipeline.json)",
      },
      kekFile: {
        path: '/repo/.stack/keys/field-keys.kek',
        setting: "FIELD_KEYS_KEK_FILE (from the running npm start's /repo/.stack/pipeline.json)",
      },
    })
  })

  it('names the settings missing for the key store', () => {
    expect(() => parse({ keysDir: undefined, kekFile: undefined })).toThrow(
      'FIELD_KEYS_DIR (or --keys-dir: the data keys folder) and FIELD_KEYS_KEK_FILE (or --kek-file: the key-encryption key file) not set, and no npm start is running in /repo/.stack: set them to what the normalizer and the query API use',
    )
    expect(() => parse({ kekFile: undefined })).toThrow(
      /^FIELD_KEYS_KEK_FILE \(or --kek-file: the key-encryption key file\) not set, and no npm start is running in \/repo\/\.stack: set it/,
    )
  })

  it('takes the actor from --actor, else AUDIT_ACTOR, else the login name', () => {
    expect(parse({ actor: undefined }, { AUDIT_ACTOR: 'ops-bot' }).actorId).toBe('ops-bot')
    expect(parse({ actor: undefined }).actorId).toMatch(/.+/)
  })

  it('names every flag at fault at once', () => {
    expect(() =>
      parse({
        tenant: ' ',
        subject: '',
        reason: '',
        inputTopic: ['a b'],
        eventsTopic: 'x/y',
        normalizerGroup: '',
      }),
    ).toThrow(
      "--tenant must not be empty; --subject must not be empty; --reason must not be empty; --events-topic must be a Kafka topic name (letters, digits, '.', '_' and '-'); got 'x/y'; --input-topic must be a Kafka topic name (letters, digits, '.', '_' and '-'); got 'a b'; --normalizer-group must not be empty",
    )
    expect(() => parse({ actor: '' })).toThrow('--actor must not be empty')
    expect(() => parse({ keysDir: '' })).toThrow('--keys-dir must not be empty')
    expect(() => parse({}, { NORMALIZER_INPUT_TOPICS: 'ok,not ok' })).toThrow(
      "NORMALIZER_INPUT_TOPICS must be a Kafka topic name (letters, digits, '.', '_' and '-'); got 'not ok'",
    )
  })
})

describe('recordedFieldKeys', () => {
  it("reads the key store from npm start's pipeline.json, when it says where", () => {
    expect(recordedFieldKeys({ ownerPid: 1, fieldKeys: { directory: '/d', kekFile: '/k' } })).toEqual({
      directory: '/d',
      kekFile: '/k',
    })
    expect(recordedFieldKeys({ ownerPid: 1 })).toBeUndefined()
    expect(recordedFieldKeys({ fieldKeys: { directory: 3 } })).toBeUndefined()
    expect(recordedFieldKeys(undefined)).toBeUndefined()
  })
})
