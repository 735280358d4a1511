import { Webhook } from 'standardwebhooks'
import { z } from 'zod'
import { severities, type Severity } from '@audit-pipeline/event-model'
import {
  addressPolicy,
  checkAddress,
  ipLiteralOf,
  webhookSigningKey,
  type AddressPolicy,
} from '@audit-pipeline/outbound'
import type { AlertPayload } from '../alerts/alertEvent.js'
import { alertStatuses } from '../alerts/alertNotice.js'
import { itemNameAt, readYamlDocument } from '../rules/problemList.js'

const receiverSchema = z.strictObject({
  /** Names the receiver in logs, metrics and its consumer group. */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected a name of a-z 0-9 _ - (up to 63, e.g. ops-pager)'),
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  /** The environment variable holding the receiver's `whsec_…` signing secret. */
  secretEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name, e.g. ALERTING_PAGER_SECRET')
    .optional(),
  /** A file holding the secret (a mounted Kubernetes secret, say). */
  secretFile: z.string().min(1).optional(),
  /** Alerts at least this severe. Default: all. */
  minSeverity: z.enum(severities, { error: `expected one of: ${severities.join(', ')}` }).default('debug'),
  /** Only these tenants' alerts. Default: all. */
  tenants: z.array(z.string().min(1)).min(1).optional(),
  /** Only these rules' alerts. Default: all. */
  rules: z.array(z.string().min(1)).min(1).optional(),
  /** Raised, resolved or both. Default both. */
  statuses: z
    .array(z.enum(alertStatuses))
    .min(1)
    .default([...alertStatuses]),
  /** One attempt's time limit, ms. Default 5000. */
  timeoutMs: z.number().int().positive().default(5_000),
  /** Attempts before the alert is logged as failed for this receiver; 0: until delivered. Default 0. */
  maxAttempts: z.number().int().min(0).default(0),
  /**
   * IPs or CIDRs in private, loopback, link-local (…) ranges this receiver may reach, as the
   * forwarder's `allowed_private_addresses`. Default none: the URL's host must resolve to public
   * addresses only.
   */
  allowedPrivateAddresses: z.array(z.string()).default([]),
})

const receiversDocument = z.strictObject({ receivers: z.array(receiverSchema) })

/** A receiver ready to deliver to: its settings, its signer and the addresses it may connect to. */
export type Receiver = Omit<
  z.infer<typeof receiverSchema>,
  'secretEnv' | 'secretFile' | 'allowedPrivateAddresses'
> & { signer: Webhook; outbound: AddressPolicy }

/** Where a receiver's allow-list is, as a refused connection names it. */
const allowListName = "the receiver's allowedPrivateAddresses"

/** Reads a secret's source: the environment and files, injected so tests stay pure. */
export type SecretSources = {
  env: Record<string, string | undefined>
  readFile: (path: string) => string
}

/**
 * Reads the receivers file, resolving each receiver's secret; throws a RulesConfigError naming
 * the file, line, receiver and field of every problem: a missing, malformed or short secret, an
 * allow-list entry that is no address, a URL written as an address the receiver may not reach
 * (a name is resolved and checked at start-up, receiverHosts.ts, and on every connect,
 * guardedAgent.ts).
 */
export function parseReceivers(text: string, file: string, secrets: SecretSources): Receiver[] {
  const { data, problems } = readYamlDocument(text, file, 'webhook receivers')
  const parsed = receiversDocument.safeParse(data)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.addIssue(issue, itemNameAt(data, issue.path, 'receivers', 'name'))
    }
    throw problems.toError()
  }
  const receivers: Receiver[] = []
  const names = new Set<string>()
  for (const [index, spec] of parsed.data.receivers.entries()) {
    const { secretEnv, secretFile, allowedPrivateAddresses, ...receiver } = spec
    const at = (path: string | (string | number)[], message: string) =>
      problems.add(
        ['receivers', index, ...(typeof path === 'string' ? [path] : path)],
        'value',
        message,
        receiver.name,
      )
    if (names.has(receiver.name)) at('name', 'a receiver name is used once')
    names.add(receiver.name)
    const outbound = receiverPolicy(allowedPrivateAddresses, (i, message) =>
      at(['allowedPrivateAddresses', i], message),
    )
    // Node connects to an address literal without a lookup, so the connect-time guard never sees
    // it: checked here instead.
    const literal = ipLiteralOf(new URL(receiver.url).hostname)
    const verdict = literal === undefined ? undefined : checkAddress(literal, outbound)
    if (verdict && !verdict.allowed) {
      at(
        'url',
        `${literal} is a ${verdict.range} address; list it in allowedPrivateAddresses if it is meant to be reached`,
      )
    }
    if ((secretEnv === undefined) === (secretFile === undefined)) {
      at('name', 'expected exactly one of secretEnv or secretFile (the whsec_… signing secret)')
      continue
    }
    let secret: string | undefined
    if (secretEnv !== undefined) {
      secret = secrets.env[secretEnv]?.trim()
      if (!secret) at('secretEnv', `the environment variable ${secretEnv} is not set`)
    } else if (secretFile !== undefined) {
      try {
        secret = secrets.readFile(secretFile).trim()
      } catch (error) {
        at(
          'secretFile',
          `cannot read ${secretFile}: ${error instanceof Error ? error.message : String(error)}`,
        )
      }
    }
    if (!secret) continue
    const signer = signerFor(secret, (message) =>
      at(secretEnv === undefined ? 'secretFile' : 'secretEnv', `${secretEnv ?? secretFile}: ${message}`),
    )
    // Any problem above is thrown below, with the others; only a sound receiver is kept.
    if (signer) receivers.push({ ...receiver, signer, outbound })
  }
  if (problems.any()) throw problems.toError()
  return receivers
}

/**
 * The receiver's address policy, after reporting each entry that is no address; those are left
 * out, so the URL is still checked against the rest (and the receiver refused anyway).
 */
function receiverPolicy(
  entries: readonly string[],
  report: (index: number, message: string) => void,
): AddressPolicy {
  const valid = entries.filter((entry, i) => {
    try {
      addressPolicy([entry], allowListName)
      return true
    } catch (error) {
      report(i, (error as Error).message)
      return false
    }
  })
  return addressPolicy(valid, allowListName)
}

/**
 * The signer of a `whsec_` secret of at least 24 bytes once decoded (Standard Webhooks'
 * recommendation), or undefined after reporting what is wrong with it.
 */
function signerFor(secret: string, report: (message: string) => void): Webhook | undefined {
  if (!secret.startsWith('whsec_')) {
    report('expected a secret of the form whsec_<base64>')
    return undefined
  }
  try {
    webhookSigningKey(secret)
  } catch (error) {
    report(error instanceof Error ? error.message : String(error))
    return undefined
  }
  try {
    // Built from the text, not the decoded key: the library's stricter base64 (padding included)
    // is what receivers verify with, so a secret it cannot read is refused here.
    return new Webhook(secret)
  } catch {
    report('expected a secret of the form whsec_<base64>, padded as Standard Webhooks libraries read it')
    return undefined
  }
}

const rank = (severity: Severity) => severities.indexOf(severity)

/** Whether an alert goes to this receiver: by severity, tenant, rule and status. */
export function receives(
  receiver: Omit<Receiver, 'signer'>,
  alert: Pick<AlertPayload, 'severity' | 'tenant' | 'rule' | 'status'>,
): boolean {
  return (
    rank(alert.severity) >= rank(receiver.minSeverity) &&
    (receiver.tenants === undefined || receiver.tenants.includes(alert.tenant)) &&
    (receiver.rules === undefined || receiver.rules.includes(alert.rule)) &&
    receiver.statuses.includes(alert.status)
  )
}
