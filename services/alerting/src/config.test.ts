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

it('refuses reading its own alerts topic as input', () => {
  expect(() =>
    loadAlertingConfig({ ...required, ALERTING_INPUT_TOPICS: 'audit.normalized,audit.alerts' }),
  ).toThrow(/ALERTING_INPUT_TOPICS.*must not include the alerts or state topic/)
})
