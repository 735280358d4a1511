import { describe, expect, it } from 'vitest'
import { ConfigError } from '@audit-pipeline/config'
import { loadAlertingConfig } from './config.js'

const required = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
  ALERTING_RULES_FILE: 'deploy/alerting/rules.yaml',
}

describe('loadAlertingConfig', () => {
  it('applies the defaults', () => {
    expect(loadAlertingConfig(required)).toMatchObject({
      inputTopics: ['audit.normalized'],
      alertsTopic: 'audit.alerts',
      stateTopic: 'audit.alerting.state',
      groupId: 'audit-alerting',
      transactionalId: 'audit-alerting',
      startFrom: 'latest',
      allowedLatenessMs: 60_000,
      ops: { port: 9467 },
    })
  })

  it('names every bad setting at once', () => {
    let caught: unknown
    try {
      loadAlertingConfig({
        ...required,
        KAFKA_BROKERS: undefined,
        ALERTING_RULES_FILE: undefined,
        ALERTING_START_FROM: 'middle',
        ALERTING_COLOUR: 'red',
      })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ConfigError)
    const settings = (caught as ConfigError).problems.map((problem) => problem.setting).sort()
    expect(settings).toEqual([
      'ALERTING_COLOUR',
      'ALERTING_RULES_FILE',
      'ALERTING_START_FROM',
      'KAFKA_BROKERS',
    ])
  })
})

describe('the conflict alerts’ settings', () => {
  it('read audit.dlq by default, in a consumer group of their own', () => {
    expect(loadAlertingConfig(required)).toMatchObject({
      conflictInputTopics: ['audit.dlq'],
      conflictGroupId: 'audit-alerting-conflicts',
    })
    expect(
      loadAlertingConfig({
        ...required,
        ALERTING_CONFLICT_INPUT_TOPICS: 'audit.dlq, sink.dlq',
        ALERTING_GROUP_ID: 'alerting-eu',
      }),
    ).toMatchObject({
      conflictInputTopics: ['audit.dlq', 'sink.dlq'],
      conflictGroupId: 'alerting-eu-conflicts',
    })
  })

  it('name ALERTING_CONFLICT_INPUT_TOPICS when it is not a list of topics, or names a topic that holds no dead letters', () => {
    expect(() =>
      loadAlertingConfig({ ...required, ALERTING_CONFLICT_INPUT_TOPICS: 'audit.dlq,bad topic' }),
    ).toThrow(/ALERTING_CONFLICT_INPUT_TOPICS.*expected comma-separated Kafka topic names/)
    expect(() =>
      loadAlertingConfig({
        ...required,
        ALERTING_CONFLICT_INPUT_TOPICS: 'audit.dlq,audit.alerts,audit.normalized',
      }),
    ).toThrow(
      /ALERTING_CONFLICT_INPUT_TOPICS.*must name dead-letter topics only, not the input, alerts or state topic \(audit\.alerts, audit\.normalized\)/,
    )
  })
})

it('refuses reading its own alerts topic as input', () => {
  expect(() =>
    loadAlertingConfig({ ...required, ALERTING_INPUT_TOPICS: 'audit.normalized,audit.alerts' }),
  ).toThrow(/ALERTING_INPUT_TOPICS.*must not include the alerts or state topic/)
})

describe('the rule time budget', () => {
  it('defaults to 50 ms, the 5th overrun within a minute disabling the rule', () => {
    expect(loadAlertingConfig(required).ruleBudget).toEqual({
      budgetMs: 50,
      overrunLimit: 5,
      windowMs: 60_000,
    })
    expect(
      loadAlertingConfig({
        ...required,
        ALERTING_RULE_BUDGET_MS: '20',
        ALERTING_RULE_BUDGET_OVERRUN_LIMIT: '3',
        ALERTING_RULE_BUDGET_WINDOW_MS: '600000',
      }).ruleBudget,
    ).toEqual({ budgetMs: 20, overrunLimit: 3, windowMs: 600_000 })
  })

  it('names each bad setting', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadAlertingConfig({ ...required, ...env })
      } catch (error) {
        if (error instanceof ConfigError) return error.problems
        throw error
      }
      throw new Error('expected a ConfigError')
    }
    expect(problems({ ALERTING_RULE_BUDGET_MS: '0', ALERTING_RULE_BUDGET_OVERRUN_LIMIT: 'many' })).toEqual([
      expect.objectContaining({
        setting: 'ALERTING_RULE_BUDGET_MS',
        message: expect.stringMatching(/expected a whole number above 0, e\.g\. 50/) as string,
      }),
      expect.objectContaining({
        setting: 'ALERTING_RULE_BUDGET_OVERRUN_LIMIT',
        message: expect.stringMatching(/expected a whole number, e\.g\. 5/) as string,
      }),
    ])
    expect(problems({ ALERTING_RULE_BUDGET_MS: '100', ALERTING_RULE_BUDGET_WINDOW_MS: '400' })).toEqual([
      {
        setting: 'ALERTING_RULE_BUDGET_WINDOW_MS',
        message:
          'must be at least ALERTING_RULE_BUDGET_MS × ALERTING_RULE_BUDGET_OVERRUN_LIMIT (500), or no rule could ever be disabled',
      },
    ])
  })
})

describe('the consumer runtime settings', () => {
  it('never gives up on an outage by default, and reads the shared KAFKA_ and DLQ_GUARD_ variables', () => {
    expect(loadAlertingConfig(required).consumer).toMatchObject({
      outage: { giveUpAfterMs: 0 },
      deadLetterGuard: { maxShare: 0.5, minDeadLetters: 1_000, windowMs: 60_000, pauseMs: 600_000 },
    })
    expect(
      loadAlertingConfig({ ...required, KAFKA_OUTAGE_GIVE_UP_MS: '300000', DLQ_GUARD_MAX_SHARE: '0.2' })
        .consumer,
    ).toMatchObject({ outage: { giveUpAfterMs: 300_000 }, deadLetterGuard: { maxShare: 0.2 } })
    expect(() => loadAlertingConfig({ ...required, DLQ_GUARD_MAX_SHARE: '2' })).toThrow(/DLQ_GUARD_MAX_SHARE/)
  })
})
