import { readFileSync } from 'node:fs'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it } from 'vitest'
import { defaultLevelsPolicy, isReduced, levelsOf, parseLevelsPolicy } from './levelsPolicy.js'

const lowered: AuditEvent = {
  ...parseEventJson(JSON.parse(ticketExampleLines()[2] ?? '')),
  recorded_at: Date.parse('2024-03-16T13:12:01Z'),
}

/** The event with another tenant, object type or source service. */
const eventOf = ({ tenant = 'witify', type = 'ticket', service = 'helpdesk-api' } = {}): AuditEvent => ({
  ...lowered,
  tenant,
  object: { ...lowered.object, type },
  source: { ...lowered.source, service },
})

const exampleYaml = `
default: { temporal: 3, informative: 3 }
rules:            # first match wins
  - { tenant: acme, object_type: ticket, temporal: 2, informative: 2 }
  - { source: legacy-crm, informative: 1 }
`

describe('parseLevelsPolicy', () => {
  it('reads the default and the rules in order, a level a rule leaves out being the default’s', () => {
    expect(parseLevelsPolicy(exampleYaml, 'levels.yaml')).toEqual({
      default: { temporal: 3, informative: 3 },
      rules: [
        { tenant: 'acme', objectType: 'ticket', levels: { temporal: 2, informative: 2 } },
        { source: 'legacy-crm', levels: { temporal: 3, informative: 1 } },
      ],
    })
    const lowDefault = parseLevelsPolicy(
      'default: { temporal: 2 }\nrules: [{ tenant: acme, informative: 1 }]',
      'levels.yaml',
    )
    expect(lowDefault.default).toEqual({ temporal: 2, informative: 3 })
    expect(lowDefault.rules[0]?.levels).toEqual({ temporal: 2, informative: 1 })
  })

  it('is the default policy, 3/3 for everything, for an empty file or one with no rules', () => {
    expect(parseLevelsPolicy('', 'levels.yaml')).toEqual(defaultLevelsPolicy)
    expect(parseLevelsPolicy('# nothing yet\n', 'levels.yaml')).toEqual(defaultLevelsPolicy)
    expect(parseLevelsPolicy('rules: []', 'levels.yaml')).toEqual(defaultLevelsPolicy)
    expect(defaultLevelsPolicy).toEqual({ default: { temporal: 3, informative: 3 }, rules: [] })
  })

  it('reads JSON as well', () => {
    const json = JSON.stringify({ rules: [{ source: 'legacy-crm', temporal: 1 }] })
    expect(parseLevelsPolicy(json, 'levels.json').rules).toEqual([
      { source: 'legacy-crm', levels: { temporal: 1, informative: 3 } },
    ])
  })

  it('reads the README’s example as it is written, and gives the error the README shows', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const example = /## Logging levels\n[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    expect(parseLevelsPolicy(example, 'levels.yaml')).toEqual(parseLevelsPolicy(exampleYaml, 'levels.yaml'))
    const shown = /`(levels\.yaml:\d+:\d+: rules\[1\]\.temporal: [^`]*)`/.exec(readme)?.[1]
    const withBadLevel = example.replace(
      '{ source: legacy-crm, informative: 1 }',
      '{ source: legacy-crm, temporal: 4 }',
    )
    expect(() => parseLevelsPolicy(withBadLevel, 'levels.yaml')).toThrow(shown)
  })

  it('reads the example in deploy/normalizer/levels.yaml', () => {
    const file = new URL('../../../../deploy/normalizer/levels.yaml', import.meta.url)
    const policy = parseLevelsPolicy(readFileSync(file, 'utf8'), 'levels.yaml')
    expect(policy.default).toEqual({ temporal: 3, informative: 3 })
    expect(policy.rules.length).toBeGreaterThan(0)
  })
})

describe('parseLevelsPolicy: problems name the file, the line and the entry', () => {
  const problemOf = (text: string) => {
    try {
      parseLevelsPolicy(text, 'levels.yaml')
    } catch (error) {
      return (error as Error).message
    }
    throw new Error('expected the file to be refused')
  }

  it('refuses a rule with no matcher: it would take every event', () => {
    expect(problemOf('rules:\n  - { tenant: acme, temporal: 2 }\n  - { informative: 1 }\n')).toBe(
      'levels.yaml:3:5: rules[1]: a rule needs at least one of tenant, object_type, source (default is for every other event)',
    )
  })

  it('refuses a rule that sets no level', () => {
    expect(problemOf('rules:\n  - { tenant: acme }\n')).toBe(
      'levels.yaml:2:5: rules[0]: a rule needs temporal, informative or both',
    )
  })

  it.each([
    ['0', 'rules:\n  - { tenant: acme, temporal: 0 }', 'levels.yaml:2:31: rules[0].temporal'],
    ['4', 'rules:\n  - { tenant: acme, informative: 4 }', 'levels.yaml:2:34: rules[0].informative'],
    ['"2" (text)', 'rules:\n  - { tenant: acme, temporal: "2" }', 'levels.yaml:2:31: rules[0].temporal'],
    ['2.5', 'default: { temporal: 2.5 }', 'levels.yaml:1:22: default.temporal'],
    ['high', 'default:\n  informative: high', 'levels.yaml:2:16: default.informative'],
  ])('refuses level %s', (_, text, where) => {
    expect(problemOf(text)).toBe(`${where}: expected 1, 2 or 3`)
  })

  it('refuses unknown keys, listing those it knows', () => {
    expect(problemOf('rules:\n  - { tenant: acme, object: ticket, temporal: 2 }')).toBe(
      'levels.yaml:2:21: rules[0].object: unknown key; expected one of: tenant, object_type, source, temporal, informative',
    )
    expect(problemOf('default: { temporal: 3, informational: 2 }')).toBe(
      'levels.yaml:1:25: default.informational: unknown key; expected one of: temporal, informative',
    )
    expect(problemOf('rule:\n  - { tenant: acme, temporal: 2 }')).toBe(
      'levels.yaml:1:1: rule: unknown key; expected one of: default, rules',
    )
  })

  it('refuses an empty matcher, rules that are no list, and text that is neither YAML nor JSON', () => {
    expect(problemOf("rules: [{ tenant: '', temporal: 1 }]")).toBe(
      'levels.yaml:1:11: rules[0].tenant: must not be empty',
    )
    expect(problemOf('rules: { tenant: acme }')).toBe('levels.yaml:1:8: rules: expected a list of rules')
    expect(problemOf('rules: [{ tenant: acme, temporal: 1 }')).toMatch(
      /^levels\.yaml:1:\d+: not valid YAML or JSON: /,
    )
    expect(problemOf('default: { temporal: 1, temporal: 2 }')).toMatch(
      /^levels\.yaml:1:\d+: not valid YAML or JSON: .*unique/,
    )
  })
})

describe('levelsOf', () => {
  const policy = parseLevelsPolicy(exampleYaml, 'levels.yaml')

  it('takes the first rule whose matchers all hold, else the default', () => {
    expect(levelsOf(policy, eventOf({ tenant: 'acme' }))).toEqual({ temporal: 2, informative: 2 })
    // acme's other objects, and other tenants' tickets: not the first rule.
    expect(levelsOf(policy, eventOf({ tenant: 'acme', type: 'invoice' }))).toEqual({
      temporal: 3,
      informative: 3,
    })
    expect(levelsOf(policy, eventOf())).toEqual({ temporal: 3, informative: 3 })
    expect(levelsOf(policy, eventOf({ service: 'legacy-crm' }))).toEqual({ temporal: 3, informative: 1 })
    // Both rules match: the first one takes it.
    expect(levelsOf(policy, eventOf({ tenant: 'acme', service: 'legacy-crm' }))).toEqual({
      temporal: 2,
      informative: 2,
    })
  })

  it('compares exact text: no case folding, no globs', () => {
    expect(levelsOf(policy, eventOf({ tenant: 'ACME' }))).toBe(policy.default)
    expect(levelsOf(policy, eventOf({ service: 'legacy-crm-2' }))).toBe(policy.default)
    const glob = parseLevelsPolicy('rules: [{ tenant: "*", informative: 1 }]', 'levels.yaml')
    expect(levelsOf(glob, eventOf())).toBe(glob.default)
  })

  it('gives 3/3 to every event without a file', () => {
    expect(levelsOf(defaultLevelsPolicy, lowered)).toEqual({ temporal: 3, informative: 3 })
    expect(isReduced(levelsOf(defaultLevelsPolicy, lowered))).toBe(false)
    expect(isReduced({ temporal: 1, informative: 3 })).toBe(true)
    expect(isReduced({ temporal: 3, informative: 2 })).toBe(true)
  })
})
