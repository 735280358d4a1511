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
