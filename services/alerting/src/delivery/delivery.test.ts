import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import type { AlertPayload } from '../alerts/alertEvent.js'
import { decideDelivery, parseRetryAfterMs, retryDelayMs } from './deliveryOutcome.js'
import { parseReceivers, receives } from './receivers.js'
import { signedRequest } from './signedRequest.js'
import { massDeleteAlert } from '../testSupport/alertPayloads.js'

const secret = `whsec_${Buffer.from('a test secret of 24 bytes').toString('base64')}`
const now = Date.parse('2026-03-02T09:00:00Z')
const policy = { initialDelayMs: 200, maxDelayMs: 60_000, multiplier: 2 }

const alert: AlertPayload = massDeleteAlert()

describe('decideDelivery', () => {
  it('retries 5xx, 429, 408, timeouts and network errors; refuses other 4xx for good', () => {
    expect(decideDelivery({ kind: 'response', status: 204 }, now)).toEqual({ outcome: 'delivered' })
    expect(decideDelivery({ kind: 'response', status: 503 }, now)).toEqual({ outcome: 'retry' })
    expect(decideDelivery({ kind: 'response', status: 429, retryAfter: '7' }, now)).toEqual({
      outcome: 'retry',
      retryAfterMs: 7_000,
    })
    expect(decideDelivery({ kind: 'timeout' }, now)).toEqual({ outcome: 'retry' })
    expect(decideDelivery({ kind: 'network', code: 'ECONNREFUSED' }, now)).toEqual({ outcome: 'retry' })
    expect(decideDelivery({ kind: 'response', status: 400 }, now)).toEqual({ outcome: 'rejected' })
    expect(decideDelivery({ kind: 'response', status: 410 }, now)).toEqual({ outcome: 'rejected' })
  })

  it('reads Retry-After as seconds or an HTTP date, and caps it', () => {
    expect(parseRetryAfterMs('Mon, 02 Mar 2026 09:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfterMs('soon', now)).toBeUndefined()
    expect(retryDelayMs(0, { retryAfterMs: 3_600_000 }, policy)).toBe(60_000)
    expect(retryDelayMs(3, {}, policy, () => 0.5)).toBe(800)
  })
})

describe('signedRequest', () => {
  it('signs id.timestamp.body so a receiver verifies it with the shared secret, and not with another', () => {
    const signed = signedRequest(alert, new Webhook(secret), new Date())
    expect(signed.headers['webhook-id']).toBe(alert.alert_id)
    const body = new Webhook(secret).verify(signed.body, signed.headers) as {
      type: string
      data: AlertPayload
    }
    expect(body).toMatchObject({
      type: 'alert.raised',
      data: { alert_id: alert.alert_id, figures: { count: 50 } },
    })
    const other = new Webhook(`whsec_${Buffer.from('another secret, 24 bytes').toString('base64')}`)
    expect(() => other.verify(signed.body, signed.headers)).toThrow()
    expect(() => new Webhook(secret).verify(signed.body.replace('50', '51'), signed.headers)).toThrow()
  })
})

describe('receivers', () => {
  const file = 'deploy/alerting/receivers.yaml'
  const secrets = { env: { PAGER_SECRET: secret }, readFile: () => secret }

  it('routes by severity, tenant, rule and status', () => {
    const [pager] = parseReceivers(
      `receivers:\n  - name: pager\n    url: https://pager.example/hook\n    secretEnv: PAGER_SECRET\n    minSeverity: error\n    tenants: [acme]\n`,
      file,
      secrets,
    )
    if (!pager) throw new Error('expected a receiver')
    expect(receives(pager, alert)).toBe(true)
    expect(receives(pager, { ...alert, severity: 'warning' })).toBe(false)
    expect(receives(pager, { ...alert, tenant: 'other' })).toBe(false)
    expect(receives({ ...pager, statuses: ['raised'] }, { ...alert, status: 'resolved' })).toBe(false)
  })

  it('names the file, line, receiver and field of a missing secret or a bad URL', () => {
    expect(() =>
      parseReceivers(
        `receivers:\n  - name: pager\n    url: ftp://x\n    secretEnv: NOPE\n  - name: ops\n    url: https://ops.example\n    secretEnv: NOPE\n`,
        file,
        secrets,
      ),
    ).toThrow(/receivers\.yaml:3:10: receivers\[0\]\.url \(receiver pager\): expected an http\(s\) URL/)
    expect(() =>
      parseReceivers(
        `receivers:\n  - name: ops\n    url: https://ops.example\n    secretEnv: NOPE\n`,
        file,
        secrets,
      ),
    ).toThrow(
      /receivers\.yaml:4:16: receivers\[0\]\.secretEnv \(receiver ops\): the environment variable NOPE is not set/,
    )
  })

  it('refuses a signing secret under 24 bytes once decoded, naming the receiver, the field and the minimum', () => {
    // 24 base64 characters, but only 18 bytes: the key is what counts.
    const short = `whsec_${Buffer.from('eighteen bytes!!!!').toString('base64')}`
    const text = `receivers:\n  - name: pager\n    url: https://pager.example/hook\n    secretEnv: SHORT\n  - name: ops\n    url: https://ops.example\n    secretFile: /run/secrets/ops\n`
    expect(() => parseReceivers(text, file, { env: { SHORT: short }, readFile: () => short })).toThrow(
      [
        'invalid webhook receivers deploy/alerting/receivers.yaml (2 problems):',
        '  deploy/alerting/receivers.yaml:4:16: receivers[0].secretEnv (receiver pager): SHORT: a Standard Webhooks secret must hold at least 24 bytes once decoded, this one holds 18; make one with: echo "whsec_$(openssl rand -base64 32)"',
        '  deploy/alerting/receivers.yaml:7:17: receivers[1].secretFile (receiver ops): /run/secrets/ops: a Standard Webhooks secret must hold at least 24 bytes once decoded, this one holds 18; make one with: echo "whsec_$(openssl rand -base64 32)"',
      ].join('\n'),
    )
    expect(() =>
      parseReceivers(text, file, {
        env: { SHORT: 'hunter2-but-much-longer-than-24' },
        readFile: () => secret,
      }),
    ).toThrow(
      /receivers\[0\]\.secretEnv \(receiver pager\): SHORT: expected a secret of the form whsec_<base64>/,
    )
  })

  it('refuses a URL written as an address the receiver may not reach, and allow-list entries that are no address', () => {
    expect(() =>
      parseReceivers(
        `receivers:\n  - name: meta\n    url: http://169.254.169.254/latest\n    secretEnv: PAGER_SECRET\n    allowedPrivateAddresses: [10.0.0.0/8, localhost]\n`,
        file,
        secrets,
      ),
    ).toThrow(
      [
        'invalid webhook receivers deploy/alerting/receivers.yaml (2 problems):',
        '  deploy/alerting/receivers.yaml:3:10: receivers[0].url (receiver meta): 169.254.169.254 is a linkLocal address; list it in allowedPrivateAddresses if it is meant to be reached',
        "  deploy/alerting/receivers.yaml:5:43: receivers[0].allowedPrivateAddresses[1] (receiver meta): 'localhost' is not an IP address or CIDR range (e.g. 127.0.0.1 or 10.0.0.0/8)",
      ].join('\n'),
    )
    expect(() =>
      parseReceivers(
        `receivers:\n  - name: internal\n    url: http://10.0.0.1:8080/hook\n    secretEnv: PAGER_SECRET\n`,
        file,
        secrets,
      ),
    ).toThrow(/receivers\[0\]\.url \(receiver internal\): 10\.0\.0\.1 is a private address/)
    const [internal] = parseReceivers(
      `receivers:\n  - name: internal\n    url: http://10.0.0.1:8080/hook\n    secretEnv: PAGER_SECRET\n    allowedPrivateAddresses: [10.0.0.0/8]\n`,
      file,
      secrets,
    )
    expect(internal?.outbound.allowed).toHaveLength(1)
  })

  it('reads the example receivers file', () => {
    const example = readFileSync(
      join(import.meta.dirname, '../../../../deploy/alerting/receivers.example.yaml'),
      'utf8',
    )
    expect(
      parseReceivers(example, 'receivers.example.yaml', {
        env: { OPS_PAGER_WEBHOOK_SECRET: secret, INTERNAL_SOC_WEBHOOK_SECRET: secret },
        readFile: () => secret,
      }).map((receiver) => receiver.name),
    ).toEqual(['ops-pager', 'acme-security', 'internal-soc'])
  })
})
