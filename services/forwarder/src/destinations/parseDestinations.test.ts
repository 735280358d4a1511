import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sampleEvent } from '../testing/sampleEvent.js'
import { DestinationsConfigError } from './destinationsConfigError.js'
import { parseDestinations } from './parseDestinations.js'

const secret = `whsec_${Buffer.from('a test secret of thirty-two bytes').toString('base64')}`
const env = {
  SECURITY_WEBHOOK_SECRET: secret,
  SECURITY_WEBHOOK_TOKEN: 'token-1',
  SPLUNK_HEC_TOKEN: 'hec-token',
  PASSWORD: 'p4ss',
}
const source = { file: 'destinations.yaml', env, readFile: () => 'PEM', defaultHostname: 'fwd-host' }

function problemsOf(text: string, withEnv: Record<string, string> = env): string[] {
  try {
    parseDestinations(text, { ...source, env: withEnv })
  } catch (error) {
    if (error instanceof DestinationsConfigError)
      return error.message
        .split('\n')
        .slice(1)
        .map((line) => line.trim())
    throw error
  }
  throw new Error('expected the file to be refused')
}

describe('parseDestinations', () => {
  it('reads the example file, secrets from the environment', () => {
    const example = readFileSync(
      join(import.meta.dirname, '../../../../deploy/forwarder/destinations.example.yaml'),
      'utf8',
    )
    const [webhook, splunk, syslog] = parseDestinations(example, source)
    expect(webhook).toMatchObject({
      name: 'security-webhook',
      kind: 'webhook',
      headers: { 'X-Audit-Source': 'audit-pipeline', authorization: 'Bearer token-1' },
      batch: { maxEvents: 200, maxBytes: 1_048_576, maxAgeMs: 2000 },
      retry: { maxAttempts: 8, initialDelayMs: 500, maxDelayMs: 30_000 },
    })
    expect(webhook?.filter(sampleEvent())).toBe(true)
    expect(webhook?.filter(sampleEvent({ severity: 'info' }))).toBe(false)
    expect(
      webhook?.kind === 'webhook' &&
        webhook.signingKey?.equals(Buffer.from('a test secret of thirty-two bytes')),
    ).toBe(true)
    expect(splunk).toMatchObject({ kind: 'splunk_hec', headers: { authorization: 'Splunk hec-token' } })
    expect(splunk?.kind === 'splunk_hec' && splunk.url.href).toBe(
      'https://splunk.example.com:8088/services/collector/event',
    )
    expect(syslog).toMatchObject({
      kind: 'syslog',
      host: 'siem.example.com',
      port: 6514,
      tls: { verify: true },
    })
    expect(syslog?.format.entry(sampleEvent(), { event_id: 'x' })).toContain(
      ' fwd-host helpdesk-api - security ',
    )
  })

  it('takes content_digest, whole, as a field path: exclude leaves it out', () => {
    const file = (fields: string) =>
      `destinations:\n  - name: a\n    kind: webhook\n    url: https://h.example.com/\n    fields: ${fields}\n`
    const [destination] = parseDestinations(file('{ exclude: [content_digest, before] }'), source)
    expect(destination?.projection).toEqual({
      exclude: [['content_digest'], ['before']],
      allowSensitive: false,
    })
    expect(parseDestinations(file('{ include: [content_digest, category] }'), source)[0]?.projection).toEqual(
      {
        include: [['content_digest'], ['category']],
        exclude: [],
        allowSensitive: false,
      },
    )
    expect(problemsOf(file('{ exclude: [content_digest.hex] }'))).toEqual([
      "destinations.yaml:5:25: destinations[0].fields.exclude[0] (destination a): 'content_digest.hex' is not an event field path (e.g. actor.ip, attributes.channel, before)",
    ])
  })

  it('reads basic auth', () => {
    const [destination] = parseDestinations(
      'destinations:\n  - name: a\n    kind: webhook\n    url: https://h.example.com/\n    auth: { basic: { username: u, password_env: PASSWORD } }\n',
      source,
    )
    expect(destination?.kind === 'webhook' && destination.headers['authorization']).toBe(
      `Basic ${Buffer.from('u:p4ss').toString('base64')}`,
    )
  })

  it('names file, line, column, path and destination for each problem', () => {
    const text = [
      'destinations:',
      '  - name: hook',
      '    kind: webhook',
      '    url: https://hooks.example.com/a',
      '    signing_secret_env: MISSING_SECRET',
      '    filter: event.category ==',
      '    colour: blue',
      '  - name: hec',
      '    kind: splunk_hec',
      '    url: https://10.1.2.3:8088',
      '    token_env: SPLUNK_HEC_TOKEN',
      '    fields: { include: [actor.ip, nope] }',
      '  - name: hook',
      '    kind: syslog',
      '    host: 127.0.0.1',
      '    port: 514',
      '    allowed_private_addresses: [127.0.0.1]',
    ].join('\n')
    expect(problemsOf(text)).toEqual([
      'destinations.yaml:7:5: destinations[0].colour (destination hook): unknown key',
    ])
    expect(problemsOf(text.replace('    colour: blue\n', ''))).toEqual([
      "destinations.yaml:5:25: destinations[0].signing_secret_env (destination hook): MISSING_SECRET is not set (it holds this destination's secret)",
      expect.stringMatching(
        /^destinations\.yaml:6:13: destinations\[0\]\.filter \(destination hook\): CEL: Unexpected token: EOF/,
      ),
      'destinations.yaml:9:10: destinations[1].url (destination hec): 10.1.2.3 is a private address; list it in allowed_private_addresses if it is meant to be reached',
      "destinations.yaml:11:35: destinations[1].fields.include[1] (destination hec): 'nope' is not an event field path (e.g. actor.ip, attributes.channel, before)",
      'destinations.yaml:12:11: destinations[2].name (destination hook): a second destination named hook (the first is destinations[0])',
    ])
  })

  it('refuses bad values with what is accepted', () => {
    expect(problemsOf('destinations:\n  - name: Bad Name\n    kind: ftp\n')).toEqual([
      'destinations.yaml:3:11: destinations[0].kind (destination Bad Name): expected kind: webhook, splunk_hec or syslog',
    ])
    expect(
      problemsOf(
        'destinations:\n  - name: s\n    kind: syslog\n    host: siem.example.com\n    port: 70000\n    batch: { max_events: 0 }\n',
      ),
    ).toEqual([
      'destinations.yaml:5:11: destinations[0].port (destination s): expected a port number from 1 to 65535',
      'destinations.yaml:6:26: destinations[0].batch.max_events (destination s): expected a whole number above 0, e.g. 500',
    ])
    expect(problemsOf('destinations: []\n')).toEqual([
      'destinations.yaml:1:15: destinations: expected at least one destination',
    ])
    expect(problemsOf('destinations:\n  - name: a\n  - b: [\n')[0]).toMatch(
      /^destinations\.yaml:\d+:\d+: YAML: /,
    )
  })

  it('refuses a signing secret under 24 bytes once decoded, naming the destination, the field and the minimum', () => {
    const file =
      'destinations:\n  - name: hook\n    kind: webhook\n    url: https://h.example.com/\n    signing_secret_env: SHORT_SECRET\n'
    // 24 base64 characters: what the forwarder used to accept, only 18 bytes.
    const short = `whsec_${Buffer.from('eighteen bytes!!!!').toString('base64')}`
    expect(problemsOf(file, { SHORT_SECRET: short })).toEqual([
      'destinations.yaml:5:25: destinations[0].signing_secret_env (destination hook): SHORT_SECRET: a Standard Webhooks secret must hold at least 24 bytes once decoded, this one holds 18; make one with: echo "whsec_$(openssl rand -base64 32)"',
    ])
    expect(problemsOf(file, { SHORT_SECRET: 'whsec_!' })).toEqual([
      expect.stringMatching(
        /^destinations\.yaml:5:25: destinations\[0\]\.signing_secret_env \(destination hook\): SHORT_SECRET: expected a Standard Webhooks secret, whsec_ followed by base64 of at least 24 bytes/,
      ),
    ])
    const [hook] = parseDestinations(file, {
      ...source,
      env: { SHORT_SECRET: `whsec_${Buffer.alloc(24, 1).toString('base64')}` },
    })
    expect(hook?.kind === 'webhook' && hook.signingKey?.length).toBe(24)
  })

  it('refuses an IP literal URL in a refused range, and an allow-list entry that is no address', () => {
    expect(
      problemsOf(
        'destinations:\n  - name: meta\n    kind: webhook\n    url: http://169.254.169.254/latest\n    allowed_private_addresses: [10.0.0.0/8, localhost]\n',
      ),
    ).toEqual([
      'destinations.yaml:4:10: destinations[0].url (destination meta): 169.254.169.254 is a linkLocal address; list it in allowed_private_addresses if it is meant to be reached',
      "destinations.yaml:5:45: destinations[0].allowed_private_addresses[1] (destination meta): 'localhost' is not an IP address or CIDR range (e.g. 127.0.0.1 or 10.0.0.0/8)",
    ])
  })

  it('reads a checkpoints destination: a webhook whose requests say what they carry; events are the default input', () => {
    const [anchor, hook] = parseDestinations(
      [
        'destinations:',
        '  - name: anchor',
        '    kind: webhook',
        '    input: checkpoints',
        '    url: https://anchor.example.com/checkpoints',
        '    signing_secret_env: SECURITY_WEBHOOK_SECRET',
        '  - name: hook',
        '    kind: webhook',
        '    url: https://h.example.com/',
      ].join('\n'),
      source,
    )
    expect(anchor).toMatchObject({
      name: 'anchor',
      kind: 'webhook',
      input: 'checkpoints',
      projection: { exclude: [], allowSensitive: false },
    })
    expect(anchor?.kind === 'webhook' && anchor.headers).toEqual({ 'audit-payload': 'checkpoints' })
    expect(anchor?.kind === 'webhook' && anchor.signingKey?.length).toBe(33)
    expect(hook).toMatchObject({ input: 'events' })
    expect(hook?.kind === 'webhook' && hook.headers).toEqual({})
  })

  it('refuses input: checkpoints on a kind other than webhook, and filter, fields and allow_sensitive with it, naming each key', () => {
    const text = [
      'destinations:',
      '  - name: anchor',
      '    kind: webhook',
      '    input: checkpoints',
      '    url: https://anchor.example.com/',
      '    filter: event.category == "security"',
      '    fields: { exclude: [before] }',
      '    allow_sensitive: false',
      '  - name: hec',
      '    kind: splunk_hec',
      '    input: checkpoints',
      '    url: https://splunk.example.com:8088',
      '    token_env: SPLUNK_HEC_TOKEN',
      '  - name: s',
      '    kind: syslog',
      '    input: checkpoints',
      '    host: siem.example.com',
      '    port: 514',
    ].join('\n')
    const notForCheckpoints = 'not for input: checkpoints, which are sent whole, as signed; remove'
    expect(problemsOf(text)).toEqual([
      `destinations.yaml:6:13: destinations[0].filter (destination anchor): ${notForCheckpoints} filter`,
      `destinations.yaml:7:13: destinations[0].fields (destination anchor): ${notForCheckpoints} fields`,
      `destinations.yaml:8:22: destinations[0].allow_sensitive (destination anchor): ${notForCheckpoints} allow_sensitive`,
      'destinations.yaml:11:12: destinations[1].input (destination hec): checkpoints go to kind: webhook only; a splunk_hec destination takes events',
      'destinations.yaml:16:12: destinations[2].input (destination s): checkpoints go to kind: webhook only; a syslog destination takes events',
    ])
    expect(
      problemsOf(
        'destinations:\n  - name: a\n    kind: webhook\n    input: checkpoint\n    url: https://h.example.com/\n',
      ),
    ).toEqual([
      'destinations.yaml:4:12: destinations[0].input (destination a): expected one of: events, checkpoints',
    ])
  })

  it('refuses custom headers the forwarder sets itself', () => {
    expect(
      problemsOf(
        'destinations:\n  - name: a\n    kind: webhook\n    url: https://h.example.com/\n    headers: { Audit-Payload: events }\n',
      ),
    ).toEqual([
      'destinations.yaml:5:31: destinations[0].headers["Audit-Payload"] (destination a): set by the forwarder itself',
    ])
    expect(
      problemsOf(
        'destinations:\n  - name: a\n    kind: webhook\n    url: https://h.example.com/\n    headers: { Authorization: x }\n',
      ),
    ).toEqual([
      'destinations.yaml:5:31: destinations[0].headers.Authorization (destination a): set by the forwarder itself; use auth for Authorization',
    ])
  })
})
