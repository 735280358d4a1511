import { describe, expect, it } from 'vitest'
import { parseDurationMs } from './duration.js'
import { parseRules } from './parseRules.js'
import { RulesConfigError } from './rulesConfigError.js'

const problemsOf = (text: string): string[] => {
  try {
    parseRules(text, 'deploy/alerting/rules.yaml')
  } catch (error) {
    if (error instanceof RulesConfigError)
      return error.message
        .split('\n')
        .slice(1)
        .map((line) => line.trim())
    throw error
  }
  throw new Error('expected the rules to be refused')
}

describe('parseRules', () => {
  it('compiles each kind with its defaults', () => {
    const { rules } = parseRules(
      `
rules:
  - id: mass-delete
    kind: threshold
    severity: critical
    filter: event.action.kind == "delete"
    groupBy: event.actor.id
    window: 5m
    atLeast: 50
  - id: reopened
    kind: change
    severity: info
    field: status
    to: [open]
`,
      'rules.yaml',
    )
    expect(rules.map((rule) => [rule.id, rule.kind, rule.reAlertAfterMs])).toEqual([
      ['mass-delete', 'threshold', 300_000],
      ['reopened', 'change', 0],
    ])
  })

  it('tells what analysts may be refused that a rule groups by or counts the values of', () => {
    const { rules } = parseRules(
      `
rules:
  - id: by-user
    kind: threshold
    severity: warning
    filter: event.actor.ip != null
    groupBy: event.actor.id
    window: 5m
    atLeast: 5
  - id: by-address
    kind: threshold
    severity: warning
    groupBy: event.actor.ip
    window: 5m
    atLeast: 5
  - id: new-device
    kind: new_value
    severity: info
    groupBy: event.actor.id
    value: event.actor.user_agent + "/" + event.attributes.device
`,
      'rules.yaml',
    )
    // A filter decides whether an alert is raised, not what it shows.
    expect(rules.map((rule) => [rule.id, rule.reveals])).toEqual([
      ['by-user', []],
      ['by-address', ['ip']],
      ['new-device', ['user_agent', 'attributes']],
    ])
  })

  it('names the file, line, column, field and rule of each problem', () => {
    expect(
      problemsOf(`rules:
  - id: mass-delete
    kind: threshold
    severity: loud
    window: 5 minutes
    atLeast: 50
    filter: event.action.kind == 
  - id: mass-delete
    kind: change
    severity: info
    field: priority
    groupBy: 'event.actor.id == "x"'
    colour: red
`),
    ).toEqual([
      'deploy/alerting/rules.yaml:4:15: rules[0].severity (rule mass-delete): expected one of: debug, info, notice, warning, error, critical',
      'deploy/alerting/rules.yaml:5:13: rules[0].window (rule mass-delete): expected a duration above 0: 500ms, 30s, 5m, 24h, 7d, or whole milliseconds',
      'deploy/alerting/rules.yaml:13:5: rules[1].colour (rule mass-delete): unknown key; Unrecognized key: "colour"',
    ])
  })

  it('reports CEL errors and repeated ids once the shape is right', () => {
    expect(
      problemsOf(`rules:
  - id: a
    kind: match
    severity: info
    filter: event.action.kind ==
  - id: a
    kind: match
    severity: info
    groupBy: 'event.actor.id == "x"'
    filter: nothing.here
`),
    ).toEqual([
      expect.stringMatching(/^deploy\/alerting\/rules\.yaml:5:13: rules\[0\]\.filter \(rule a\): CEL: /),
      'deploy/alerting/rules.yaml:6:9: rules[1].id (rule a): a rule id is used once; rules[0] has it already',
      'deploy/alerting/rules.yaml:9:14: rules[1].groupBy (rule a): CEL: expected a string expression, this one gives bool',
      expect.stringMatching(
        /^deploy\/alerting\/rules\.yaml:10:13: rules\[1\]\.filter \(rule a\): CEL: Unknown variable: nothing/,
      ),
    ])
  })

  it('refuses an unknown kind and a YAML syntax error with their position', () => {
    expect(problemsOf('rules:\n  - id: a\n    kind: guess\n    severity: info\n')).toEqual([
      expect.stringMatching(
        /^deploy\/alerting\/rules\.yaml:3:11: rules\[0\]\.kind \(rule a\): expected kind: threshold/,
      ),
    ])
    expect(problemsOf('rules: [\n')[0]).toMatch(/^deploy\/alerting\/rules\.yaml:\d+:\d+: YAML: /)
  })
})

describe('parseDurationMs', () => {
  it('reads units and refuses the rest', () => {
    expect([
      parseDurationMs('500ms'),
      parseDurationMs('30s'),
      parseDurationMs('5m'),
      parseDurationMs('24h'),
    ]).toEqual([500, 30_000, 300_000, 86_400_000])
    expect([
      parseDurationMs('0s'),
      parseDurationMs('5 m'),
      parseDurationMs(-1),
      parseDurationMs('1y'),
    ]).toEqual([undefined, undefined, undefined, undefined])
  })
})

describe('eventView', () => {
  it('gives expressions plain objects, also for decoded Avro records (class instances)', async () => {
    const { eventView } = await import('./eventView.js')
    const { compileExpression } = await import('./celExpression.js')
    const { auditEvent } = await import('../testSupport/auditEvents.js')
    class AvroRecord {
      constructor(fields: object) {
        Object.assign(this, fields)
      }
    }
    const plain = auditEvent({ at: 0, kind: 'delete', changes: { priority: ['Urgent', 'Normal'] } })
    const decoded = {
      ...plain,
      action: new AvroRecord(plain.action),
      actor: new AvroRecord(plain.actor),
    } as typeof plain
    const view = eventView(decoded)
    const expression = compileExpression(
      'event.action.kind == "delete" && changed.priority.new == "Normal"',
      'bool',
    )
    expect(expression.evaluate({ ...view, entity: {}, first: {} })).toBe(true)
  })
})

describe('deploy/alerting/rules.yaml', () => {
  it('parses: the rules `npm start` runs with', async () => {
    const { readFileSync } = await import('node:fs')
    const file = new URL('../../../../deploy/alerting/rules.yaml', import.meta.url)
    const { rules } = parseRules(readFileSync(file, 'utf8'), 'deploy/alerting/rules.yaml')
    expect(new Set(rules.map((rule) => rule.kind)).size).toBe(8)
  })
})
