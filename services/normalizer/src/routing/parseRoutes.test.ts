import { readFileSync } from 'node:fs'
import { AuditError } from '@audit-pipeline/errors'
import { describe, expect, it } from 'vitest'
import { parseRoutes } from './parseRoutes.js'
import { formatProblem, RoutesConfigError } from './routesConfigError.js'
import { routeTopics } from './routeTopics.js'

/** The problems a config is refused with, as the error message lists them. */
function problemsOf(text: string, file = 'routes.yaml'): string[] {
  try {
    parseRoutes(text, { file })
  } catch (error) {
    if (!(error instanceof RoutesConfigError)) throw error
    return error.problems.map(formatProblem)
  }
  throw new Error('the config was accepted')
}

/** A config whose routes are the given YAML lines (indented by the caller), with a default. */
const withRoutes = (...lines: string[]) =>
  ['routes:', ...lines, 'default: { to: [audit.normalized] }', ''].join('\n')

const yamlConfig = `# routes for the test
routes:
  - name: drop-debug
    match:
      category: debug
    drop:
      reason: debug events are not kept
  - name: security
    match:
      category: security
      attributes.channel: [web, api]
    to: [audit.normalized, audit.forward]
default:
  to: [audit.normalized]
`

const jsonConfig = `{
  "routes": [
    { "name": "drop-debug", "match": { "category": "debug" }, "drop": { "reason": "debug events are not kept" } },
    {
      "name": "security",
      "match": { "category": "security", "attributes.channel": ["web", "api"] },
      "to": ["audit.normalized", "audit.forward"]
    }
  ],
  "default": { "to": ["audit.normalized"] }
}
`

describe('parseRoutes: valid configs', () => {
  it('reads YAML into routes in order, each with its decision, and the default', () => {
    const table = parseRoutes(yamlConfig, { file: 'routes.yaml' })
    expect(table.file).toBe('routes.yaml')
    expect(table.routes.map((route) => route.decision)).toEqual([
      { route: 'drop-debug', outcome: { kind: 'drop', reason: 'debug events are not kept' } },
      { route: 'security', outcome: { kind: 'send', topics: ['audit.normalized', 'audit.forward'] } },
    ])
    expect(table.defaultDecision).toEqual({
      route: 'default',
      outcome: { kind: 'send', topics: ['audit.normalized'] },
    })
  })

  it('reads the same config written as JSON, by extension or by format', () => {
    const fromYaml = parseRoutes(yamlConfig, { file: 'routes.yaml' })
    for (const source of [{ file: 'routes.json' }, { file: 'routes.conf', format: 'json' as const }]) {
      const fromJson = parseRoutes(jsonConfig, source)
      expect(fromJson.routes.map((route) => route.decision)).toEqual(fromYaml.routes.map((r) => r.decision))
      expect(fromJson.defaultDecision).toEqual(fromYaml.defaultDecision)
    }
  })

  it('accepts a config with only a default route', () => {
    const table = parseRoutes('default: { drop: { reason: nothing is kept } }\n', { file: 'routes.yaml' })
    expect([table.routes, table.defaultDecision.outcome]).toEqual([
      [],
      { kind: 'drop', reason: 'nothing is kept' },
    ])
  })

  it('expands anchors, so a topic list can be written once', () => {
    const table = parseRoutes(
      withRoutes(
        '  - name: security',
        '    match: { category: security }',
        '    to: &stored-and-forwarded [audit.normalized, audit.forward]',
        '  - name: admins',
        '    match: { actor.roles: admin }',
        '    to: *stored-and-forwarded',
      ),
      { file: 'routes.yaml' },
    )
    expect(table.routes[1]?.decision.outcome).toEqual({
      kind: 'send',
      topics: ['audit.normalized', 'audit.forward'],
    })
  })

  it('reads the example config shipped with the service', () => {
    const file = new URL('../../routes.example.yaml', import.meta.url)
    const table = parseRoutes(readFileSync(file, 'utf8'), { file: 'routes.example.yaml' })
    expect(table.routes.length).toBeGreaterThan(3)
    expect(routeTopics(table)).toEqual(['audit.normalized', 'audit.forward'])
  })

  it('freezes the table, so a decision handed out cannot be changed', () => {
    const table = parseRoutes(yamlConfig, { file: 'routes.yaml' })
    const decision = table.routes[1]!.decision
    expect(Object.isFrozen(table) && Object.isFrozen(decision) && Object.isFrozen(decision.outcome)).toBe(
      true,
    )
    expect(decision.outcome.kind === 'send' && Object.isFrozen(decision.outcome.topics)).toBe(true)
  })
})

describe('parseRoutes: the error', () => {
  it('is a non-retriable CONFIG_INVALID AuditError listing every problem in document order', () => {
    const text = withRoutes(
      '  - name: a',
      '    match: { severity: warn }',
      '    to: [audit.normalized]',
      '  - name: b',
      '    match: { category: business }',
      '    to: [audit events]',
    )
    let thrown: unknown
    try {
      parseRoutes(text, { file: 'conf/routes.yaml' })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(RoutesConfigError)
    expect(thrown).toBeInstanceOf(AuditError)
    const error = thrown as RoutesConfigError
    expect([error.code, error.retriable, error.file]).toEqual(['CONFIG_INVALID', false, 'conf/routes.yaml'])
    expect(error.message).toBe(
      [
        'invalid routes config conf/routes.yaml (2 problems):',
        '  conf/routes.yaml:3:24: routes[0].match.severity: expected one of: debug, info, notice, warning, error, critical',
        "  conf/routes.yaml:7:10: routes[1].to[0]: 'audit events' is not a Kafka topic name: use 1 to 249 of a-z A-Z 0-9 . _ -",
      ].join('\n'),
    )
    expect(error.problems[0]).toEqual({
      file: 'conf/routes.yaml',
      line: 3,
      column: 24,
      path: 'routes[0].match.severity',
      message: 'expected one of: debug, info, notice, warning, error, critical',
    })
  })
})

describe('parseRoutes: syntax', () => {
  it('refuses malformed YAML at the places the parser stumbled', () => {
    expect(problemsOf('routes: [\n  - name: a\n')).toEqual([
      'routes.yaml:2:3: YAML: Block collections are not allowed within flow collections',
      'routes.yaml:3:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ])
  })

  it('refuses duplicate keys, which YAML and JSON parsers usually let the last one win', () => {
    expect(problemsOf('default: { to: [a] }\ndefault: { to: [b] }\n')).toEqual([
      'routes.yaml:2:1: YAML: Map keys must be unique',
    ])
    expect(problemsOf('{\n  "default": { "to": ["a"], "to": ["b"] }\n}\n', 'routes.json')).toEqual([
      'routes.json:2:29: JSON: Map keys must be unique',
    ])
  })

  it('refuses what JSON does not allow, with its line', () => {
    expect(problemsOf('{\n  "default": { "to": [audit] }\n}\n', 'routes.json')).toEqual([
      'routes.json:2:23: JSON: Unresolved plain scalar "audit"',
    ])
  })

  it('refuses an alias without its anchor', () => {
    expect(problemsOf('default:\n  to: *topics\n')).toEqual([
      'routes.yaml:2:7: YAML: no anchor &topics before *topics',
    ])
  })

  it('bounds alias expansion (billion laughs)', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (let level = 1; level < 8; level++) {
      const previous = String.fromCharCode(96 + level)
      const name = String.fromCharCode(97 + level)
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`)
    }
    const [problem] = problemsOf(`${levels.join('\n')}\n`)
    expect(problem).toMatch(/^routes\.yaml:1:1: YAML: Excessive alias count/)
  })
})

describe('parseRoutes: shape', () => {
  it('refuses an empty file or one that is not a mapping', () => {
    expect(problemsOf('')).toEqual([
      'routes.yaml:1:1: expected a mapping with routes: [...] and default: {...}',
    ])
    expect(problemsOf('- a\n- b\n')).toEqual([
      'routes.yaml:1:1: expected a mapping with routes: [...] and default: {...}',
    ])
  })

  it('refuses a config without a default route', () => {
    expect(
      problemsOf('routes:\n  - name: a\n    match: { category: security }\n    to: [audit.forward]\n'),
    ).toEqual([
      'routes.yaml:1:1: default: missing: the default route for events no route matches: to: [topics] or drop: { reason: … }',
    ])
    expect(problemsOf('routes: []\ndefault: {}\n')).toEqual([
      'routes.yaml:2:10: default: missing: what the route does, to: [topics] or drop: { reason: … }',
    ])
  })

  it('refuses unknown keys at every level, pointing at the key', () => {
    expect(
      problemsOf(
        [
          'version: 2',
          'routes:',
          '  - name: a',
          '    match: { category: security }',
          '    to: [audit.forward]',
          '    continue: true',
          'default:',
          '  drop: { reason: not kept, why: because }',
        ].join('\n'),
      ),
    ).toEqual([
      'routes.yaml:1:1: version: unknown key; the keys are: routes, default',
      'routes.yaml:6:5: routes[0].continue: unknown key; the keys are: name, match, to, drop',
      'routes.yaml:8:29: default.drop.why: unknown key; the keys are: reason',
    ])
  })

  it('refuses a route to a topic only the pipeline writes, whichever way it is spelled', () => {
    expect(
      problemsOf(
        [
          'routes:',
          '  - name: sneaky',
          '    match: { category: security }',
          '    to: [audit.forward, audit.alerts]',
          '  - name: sneakier',
          '    match: { category: business }',
          '    to: [audit_access]',
          'default: { to: [audit.normalized, audit.checkpoints] }',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      "routes.yaml:4:25: routes[0].to[1]: 'audit.alerts' is written only by the pipeline's own services (alerts, access records, checkpoints): no route may send producers' events there",
      "routes.yaml:7:10: routes[1].to[0]: 'audit_access' is written only by the pipeline's own services (alerts, access records, checkpoints): no route may send producers' events there",
      "routes.yaml:8:35: default.to[1]: 'audit.checkpoints' is written only by the pipeline's own services (alerts, access records, checkpoints): no route may send producers' events there",
    ])
  })

  it('refuses route names that are missing, malformed, reserved or taken', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - match: { category: security }',
          '    to: [audit.forward]',
          '  - name: security events',
          '    match: { category: security }',
          '    to: [audit.forward]',
          '  - name: default',
          '    match: { category: security }',
          '    to: [audit.forward]',
        ),
      ),
    ).toEqual([
      'routes.yaml:2:5: routes[0].name: missing: a route name',
      'routes.yaml:4:11: routes[1].name: a route name is 1 to 64 of A-Z a-z 0-9 _ . -, starting with a letter or a digit',
      "routes.yaml:7:11: routes[2].name: 'default' is the name of the default route; give this route another name",
    ])
    expect(
      problemsOf(
        withRoutes(
          '  - name: security',
          '    match: { category: security }',
          '    to: [audit.forward]',
          '  - name: security',
          '    match: { category: business }',
          '    to: [audit.forward]',
        ),
      ),
    ).toEqual(["routes.yaml:5:11: routes[1].name: 'security' is already the name of routes[0] (line 2)"])
  })

  it('refuses a route that both sends and drops, or does neither', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - name: both',
          '    match: { category: security }',
          '    to: [audit.forward]',
          '    drop: { reason: not kept }',
          '  - name: neither',
          '    match: { category: business }',
        ),
      ),
    ).toEqual([
      'routes.yaml:5:5: routes[0].drop: a route either sends (to) or drops (drop), not both',
      'routes.yaml:6:5: routes[1]: missing: what the route does, to: [topics] or drop: { reason: … }',
    ])
  })

  it('refuses drop reasons that are missing, empty, too long or on several lines', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - name: a',
          '    match: { category: debug }',
          '    drop: {}',
          '  - name: b',
          '    match: { category: platform }',
          "    drop: { reason: '  ' }",
          '  - name: c',
          '    match: { category: business }',
          `    drop: { reason: ${'x'.repeat(121)} }`,
          '  - name: d',
          '    match: { category: security }',
          '    drop:',
          '      reason: "two\\nlines"',
        ),
      ),
    ).toEqual([
      'routes.yaml:4:11: routes[0].drop.reason: missing: a reason, e.g. reason: debug events are not kept',
      'routes.yaml:7:21: routes[1].drop.reason: must not be empty: dropped events are counted by reason',
      'routes.yaml:10:21: routes[2].drop.reason: at most 120 characters (it is a metric label)',
      'routes.yaml:14:15: routes[3].drop.reason: one line (it is a metric label)',
    ])
  })
})

describe('parseRoutes: topics', () => {
  it('refuses topic lists that are not lists, empty, or repeat a topic, and illegal names', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - name: a',
          '    match: { category: debug }',
          '    to: audit.normalized',
          '  - name: b',
          '    match: { category: platform }',
          '    to: []',
          '  - name: c',
          '    match: { category: business }',
          '    to: [audit.normalized, audit.forward, audit.normalized]',
          '  - name: d',
          '    match: { category: security }',
          `    to: [audit/forward, '.', ${'t'.repeat(250)}, 42]`,
        ),
      ),
    ).toEqual([
      'routes.yaml:4:9: routes[0].to: expected a list of topics, e.g. [audit.normalized]',
      'routes.yaml:7:9: routes[1].to: list at least one topic; to discard the events, use drop: { reason: … } instead',
      "routes.yaml:10:43: routes[2].to[2]: 'audit.normalized' is already in this list",
      "routes.yaml:13:10: routes[3].to[0]: 'audit/forward' is not a Kafka topic name: use 1 to 249 of a-z A-Z 0-9 . _ -",
      "routes.yaml:13:25: routes[3].to[1]: '.' is not a Kafka topic name",
      `routes.yaml:13:30: routes[3].to[2]: '${'t'.repeat(250)}' is not a Kafka topic name: use 1 to 249 of a-z A-Z 0-9 . _ -`,
      'routes.yaml:13:282: routes[3].to[3]: expected a Kafka topic name',
    ])
  })

  it('accepts a topic name of 249 characters', () => {
    const table = parseRoutes(`default: { to: [${'t'.repeat(249)}] }\n`, { file: 'routes.yaml' })
    expect(routeTopics(table)).toEqual(['t'.repeat(249)])
  })

  it('refuses two topics Kafka cannot hold side by side (. and _), across routes and the default', () => {
    expect(
      problemsOf(
        [
          'routes:',
          '  - name: security',
          '    match: { category: security }',
          '    to: [audit.forward]',
          'default:',
          '  to: [audit.normalized, audit_forward]',
        ].join('\n'),
      ),
    ).toEqual([
      "routes.yaml:6:26: default.to[1]: 'audit_forward' and 'audit.forward' (line 4) cannot both exist: Kafka treats '.' and '_' in topic names alike",
    ])
  })
})

describe('parseRoutes: conditions', () => {
  it('refuses an empty or missing match', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - name: a',
          '    match: {}',
          '    to: [audit.forward]',
          '  - name: b',
          '    to: [audit.forward]',
        ),
      ),
    ).toEqual([
      'routes.yaml:3:12: routes[0].match: list at least one condition; the default route takes the events no route matches',
      'routes.yaml:5:5: routes[1].match: missing: a mapping of field: value(s), e.g. { category: security, action.name: ticket.* }',
    ])
  })

  it('refuses unknown fields at the key, and explains nested fields', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - name: a',
          '    match:',
          '      catgory: security',
          '      action: { kind: read }',
          '    to: [audit.forward]',
        ),
      ),
    ).toEqual([
      expect.stringMatching(
        /^routes\.yaml:4:7: routes\[0\]\.match\.catgory: unknown field; match on one of: category, tenant, severity, .*, attributes\.<key>$/,
      ),
      'routes.yaml:5:7: routes[0].match.action: write a nested field as one dotted key: action.kind',
    ])
  })

  it('refuses values that are not text, empty lists and empty strings', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - name: a',
          '    match:',
          '      attributes.retries: 3',
          '      tenant: []',
          "      object.type: ['']",
          '      actor.id: [u-1, null, true]',
          '      source.service: [[helpdesk-api]]',
          '    to: [audit.forward]',
        ),
      ),
    ).toEqual([
      `routes.yaml:4:27: routes[0].match["attributes.retries"]: expected a string or a list of strings (quote numbers and booleans: '3')`,
      'routes.yaml:5:15: routes[0].match.tenant: list at least one value',
      'routes.yaml:6:21: routes[0].match["object.type"][0]: must not be empty',
      'routes.yaml:7:23: routes[0].match["actor.id"][1]: expected a string or a list of strings (an event without a value matches no condition)',
      `routes.yaml:7:29: routes[0].match["actor.id"][2]: expected a string or a list of strings (quote numbers and booleans: 'true')`,
      'routes.yaml:8:24: routes[0].match["source.service"][0]: expected a string: a list item cannot be a list or a mapping',
    ])
  })

  it('checks values of closed enums, globs included', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - name: a',
          '    match:',
          '      severity: [warning, fatal]',
          '      action.kind: upd*',
          '      outcome.status: den*',
          '      actor.type: robot*',
          '    to: [audit.forward]',
        ),
      ),
    ).toEqual([
      'routes.yaml:4:27: routes[0].match.severity[1]: expected one of: debug, info, notice, warning, error, critical',
      'routes.yaml:7:19: routes[0].match["actor.type"]: \'robot*\' matches none of: user, service, system',
    ])
  })

  it('refuses two conditions on one field', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - name: a',
          '    match:',
          '      attributes.e.mail: yes',
          '      attributes["e.mail"]: no',
          '    to: [audit.forward]',
        ),
      ),
    ).toEqual([
      `routes.yaml:5:7: routes[0].match["attributes[\\"e.mail\\"]"]: the same field as 'attributes.e.mail': give all its values in one condition`,
    ])
  })
})

describe('parseRoutes: routes that can never match', () => {
  it('refuses a route that matches every event: nothing after it would be used', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - name: everything',
          "    match: { tenant: '*', category: '*' }",
          '    to: [audit.forward]',
          '  - name: security',
          '    match: { category: security }',
          '    to: [audit.forward]',
        ),
      ),
    ).toEqual([
      'routes.yaml:3:12: routes[0].match: matches every event, so the routes after it and the default route are never used: give its action to default instead',
    ])
  })

  it('does not count * on a field some events lack as matching everything', () => {
    const table = parseRoutes(
      withRoutes('  - name: delegated', "    match: { on_behalf_of.id: '*' }", '    to: [audit.forward]'),
      { file: 'routes.yaml' },
    )
    expect(table.routes.map((route) => route.name)).toEqual(['delegated'])
  })

  it('refuses a route whose events an earlier route always takes', () => {
    expect(
      problemsOf(
        withRoutes(
          '  - name: tickets',
          "    match: { category: [business, security], action.name: 'ticket.*' }",
          '    to: [audit.normalized]',
          '  - name: ticket-assign',
          '    match:',
          '      category: business',
          '      action.name: ticket.assign',
          '      severity: info',
          '    to: [audit.forward]',
          '  - name: email',
          "    match: { category: business, action.name: 'email.*' }",
          '    to: [audit.forward]',
        ),
      ),
    ).toEqual([
      "routes.yaml:7:7: routes[1].match: can never match: every event it matches is taken first by route 'tickets' (routes[0], line 2); first match wins, so put the narrower route first",
    ])
  })

  it('accepts the narrower route first', () => {
    const table = parseRoutes(
      withRoutes(
        '  - name: ticket-assign',
        '    match: { category: business, action.name: ticket.assign }',
        '    to: [audit.forward]',
        '  - name: tickets',
        "    match: { category: business, action.name: 'ticket.*' }",
        '    to: [audit.normalized]',
      ),
      { file: 'routes.yaml' },
    )
    expect(table.routes.map((route) => route.name)).toEqual(['ticket-assign', 'tickets'])
  })
})
