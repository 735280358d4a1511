import { describe, expect, it } from 'vitest'
import { parseDlqListFlags, parseDlqReplayFlags } from './dlqOptions.js'

describe('parseDlqListFlags', () => {
  it('turns flags into a filter and a limit', () => {
    expect(
      parseDlqListFlags({
        topic: 'audit.dlq',
        limit: '25',
        class: 'EVENT_INVALID',
        sourceTopic: 'audit.events',
        service: 'forwarder:siem',
        since: '2026-03-01T12:00:00+01:00',
        json: true,
      }),
    ).toEqual({
      topic: 'audit.dlq',
      limit: 25,
      json: true,
      filter: {
        errorClass: 'EVENT_INVALID',
        sourceTopic: 'audit.events',
        service: 'forwarder:siem',
        failedSince: new Date('2026-03-01T11:00:00Z'),
      },
    })
    expect(parseDlqListFlags({ topic: 'audit.dlq', limit: '100', since: '2026-03-01' })).toEqual({
      topic: 'audit.dlq',
      limit: 100,
      json: false,
      filter: { failedSince: new Date('2026-03-01T00:00:00Z') },
    })
  })

  it('names the option at fault and what it accepts', () => {
    const list = (flags: Record<string, string>) => () =>
      parseDlqListFlags({ topic: 'audit.dlq', limit: '1', ...flags })
    for (const limit of ['0', '-3', '1.5', 'ten', '']) {
      expect(list({ limit })).toThrow(`--limit must be a positive integer; got '${limit}'`)
    }
    expect(list({ since: 'yesterday' })).toThrow(
      "--since must be an ISO-8601 date such as 2026-03-01, or a time with its zone such as 2026-03-01T12:00:00Z; got 'yesterday'",
    )
    // Without a zone the time would depend on where the command runs.
    expect(list({ since: '2026-03-01T12:00:00' })).toThrow('--since must be an ISO-8601 date')
    expect(list({ since: '2026-02-30' })).toThrow('--since must be an ISO-8601 date')
    expect(list({ topic: 'audit dlq' })).toThrow(
      "--topic must be a Kafka topic name (letters, digits, '.', '_' and '-'); got 'audit dlq'",
    )
    expect(list({ sourceTopic: 'a/b' })).toThrow('--source-topic must be a Kafka topic name')
    expect(list({ class: ' ' })).toThrow('--class must not be empty')
  })
})

describe('parseDlqReplayFlags', () => {
  it('keeps --to, --dry-run and --from-start, and checks --to', () => {
    expect(parseDlqReplayFlags({ topic: 'audit.dlq', to: 'audit.events', dryRun: true })).toEqual({
      topic: 'audit.dlq',
      filter: {},
      to: 'audit.events',
      dryRun: true,
      fromStart: false,
    })
    expect(() => parseDlqReplayFlags({ topic: 'audit.dlq', to: '' })).toThrow(
      '--to must be a Kafka topic name',
    )
  })
})

describe('the key store of dlq list and dlq replay', () => {
  const running = {
    stateDir: '/repo/.stack',
    fieldKeys: { directory: '/repo/.stack/field-keys', kekFile: '/repo/.stack/keys/field-keys.kek' },
  }
  const keysFrom = (env: Record<string, string> = {}, npmStart: 'running' | 'none' = 'running') => ({
    env,
    running: npmStart === 'running' ? running : { ...running, fieldKeys: undefined },
    cwd: '/work',
  })

  it('is found as erase finds it: the flags, else FIELD_KEYS_*, else the running npm start', () => {
    expect(
      parseDlqReplayFlags({ topic: 'audit.dlq', keysDir: 'keys', kekFile: '/kek' }, keysFrom()).fieldKeys,
    ).toEqual({
      directory: { path: '/work/keys', setting: '--keys-dir' },
      kekFile: { path: '/kek', setting: '--kek-file' },
    })
    const env = { FIELD_KEYS_DIR: '/k', FIELD_KEYS_KEK_FILE: '/k.kek' }
    expect(parseDlqListFlags({ topic: 'audit.dlq', limit: '1' }, keysFrom(env)).fieldKeys).toEqual({
      directory: { path: '/k', setting: 'FIELD_KEYS_DIR' },
      kekFile: { path: '/k.kek', setting: 'FIELD_KEYS_KEK_FILE' },
    })
    expect(parseDlqListFlags({ topic: 'audit.dlq', limit: '1' }, keysFrom()).fieldKeys).toMatchObject({
      directory: { path: '/repo/.stack/field-keys' },
    })
  })

  it('is left out when nothing names it, and refused when only half of it is named', () => {
    expect(parseDlqListFlags({ topic: 'audit.dlq', limit: '1' }, keysFrom({}, 'none'))).not.toHaveProperty(
      'fieldKeys',
    )
    expect(parseDlqReplayFlags({ topic: 'audit.dlq' })).not.toHaveProperty('fieldKeys')
    expect(() =>
      parseDlqReplayFlags({ topic: 'audit.dlq' }, keysFrom({ FIELD_KEYS_DIR: '/k' }, 'none')),
    ).toThrow(
      "FIELD_KEYS_KEK_FILE (or --kek-file: the key-encryption key file) not set, but FIELD_KEYS_DIR is: set both (the normalizer's), or neither",
    )
    expect(() => parseDlqListFlags({ topic: 'audit.dlq', limit: '1', kekFile: '/kek' })).toThrow(
      'FIELD_KEYS_DIR (or --keys-dir: the data keys folder) not set, but --kek-file is',
    )
  })
})
