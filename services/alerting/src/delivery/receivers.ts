import { Webhook } from 'standardwebhooks'
import { z } from 'zod'
import { severities, type Severity } from '@audit-pipeline/event-model'
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
})

const receiversDocument = z.strictObject({ receivers: z.array(receiverSchema) })

/** A receiver ready to deliver to: its settings and its signer. */
export type Receiver = Omit<z.infer<typeof receiverSchema>, 'secretEnv' | 'secretFile'> & { signer: Webhook }

/** Reads a secret's source: the environment and files, injected so tests stay pure. */
export type SecretSources = {
  env: Record<string, string | undefined>
  readFile: (path: string) => string
}

/**
 * Reads the receivers file, resolving each receiver's secret; throws a RulesConfigError naming
 * the file, line, receiver and field of every problem (a missing or malformed secret included).
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
  for (const [index, { secretEnv, secretFile, ...receiver }] of parsed.data.receivers.entries()) {
    const at = (key: string, message: string) =>
      problems.add(['receivers', index, key], 'value', message, receiver.name)
    if (names.has(receiver.name)) at('name', 'a receiver name is used once')
    names.add(receiver.name)
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
    try {
      if (!secret.startsWith('whsec_')) throw new Error('no whsec_ prefix')
      receivers.push({ ...receiver, signer: new Webhook(secret) })
    } catch {
      at(secretEnv === undefined ? 'secretFile' : 'secretEnv', 'expected a secret of the form whsec_<base64>')
    }
  }
  if (problems.any()) throw problems.toError()
  return receivers
}

const rank = (severity: Severity) => severities.indexOf(severity)

/** Whether an alert goes to this receiver: by severity, tenant, rule and status. */
export function receives(receiver: Omit<Receiver, 'signer'>, alert: AlertPayload): boolean {
  return (
    rank(alert.severity) >= rank(receiver.minSeverity) &&
    (receiver.tenants === undefined || receiver.tenants.includes(alert.tenant)) &&
    (receiver.rules === undefined || receiver.rules.includes(alert.rule)) &&
    receiver.statuses.includes(alert.status)
  )
}
