import {
  parsePathPatterns,
  redactEvent,
  type AuditEvent,
  type RedactionMethod,
} from '@audit-pipeline/event-model'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'

/**
 * Per-tenant redaction, applied to every event the normalizer passes on. Producers using the SDK
 * redact before sending; JSON, CloudEvents and Debezium producers do not, and a tenant may call
 * more fields sensitive than its producers do. Values already replaced stay as they are
 * (redactEvent is idempotent), so events redacted by the SDK are not hashed twice.
 */
export type RedactionPolicy = {
  /** Applied to tenants not listed. */
  readonly default: TenantRedaction
  readonly tenants: ReadonlyMap<string, TenantRedaction>
}

export type TenantRedaction = {
  /** Paths treated as sensitive in every event of the tenant, besides the event's own sensitive_fields. */
  readonly sensitiveFields: readonly string[]
  readonly method: RedactionMethod
}

/** Without a policy file: each event's own sensitive_fields, values dropped. */
export const defaultRedactionPolicy: RedactionPolicy = {
  default: { sensitiveFields: [], method: { mode: 'drop' } },
  tenants: new Map(),
}

const tenantSchema = z
  .object({
    method: z.enum(['drop', 'hash'], { error: 'expected drop or hash' }).default('drop'),
    sensitive_fields: z.array(z.string().min(1, 'a path must not be empty')).default([]),
  })
  .strict()

const policySchema = z
  .object({
    default: tenantSchema.optional(),
    tenants: z.record(z.string().min(1, 'a tenant must not be empty'), tenantSchema).default({}),
  })
  .strict()

/**
 * Reads a redaction policy file (YAML or JSON):
 *
 * ```yaml
 * default: { method: drop }
 * tenants:
 *   acme: { method: hash, sensitive_fields: [customer.email, cards[*].number] }
 * ```
 *
 * `hash` needs `hmacKey` (NORMALIZER_REDACTION_HMAC_KEY). Throws an Error naming the file and the
 * first bad entry.
 */
export function parseRedactionPolicy(
  text: string,
  file: string,
  hmacKey: string | undefined,
): RedactionPolicy {
  let document: unknown
  try {
    document = parseYaml(text)
  } catch (error) {
    throw new Error(`${file}: not valid YAML or JSON: ${(error as Error).message}`, { cause: error })
  }
  const parsed = policySchema.safeParse(document ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.map(String).join('.') || '(file)'
    throw new Error(`${file}: ${where}: ${issue?.message ?? 'invalid'}`)
  }
  const tenantRule = (entry: z.infer<typeof tenantSchema>, where: string): TenantRedaction => {
    try {
      parsePathPatterns(entry.sensitive_fields)
    } catch (error) {
      throw new Error(`${file}: ${where}.sensitive_fields: ${(error as Error).message}`, { cause: error })
    }
    if (entry.method === 'hash' && !hmacKey) {
      throw new Error(
        `${file}: ${where}.method: hash needs a secret key: set NORMALIZER_REDACTION_HMAC_KEY (or use drop)`,
      )
    }
    return {
      sensitiveFields: Object.freeze([...entry.sensitive_fields]),
      method: entry.method === 'hash' ? { mode: 'hash', hmacKey: hmacKey ?? '' } : { mode: 'drop' },
    }
  }
  return {
    default: parsed.data.default
      ? tenantRule(parsed.data.default, 'default')
      : defaultRedactionPolicy.default,
    tenants: new Map(
      Object.entries(parsed.data.tenants).map(([tenant, entry]) => [
        tenant,
        tenantRule(entry, `tenants.${tenant}`),
      ]),
    ),
  }
}

/**
 * The event with its tenant's sensitive paths added to `sensitive_fields` and every sensitive value
 * replaced. Deterministic (HMAC, no salt), so an event normalized twice after a crash is an exact copy.
 */
export function applyRedactionPolicy(event: AuditEvent, policy: RedactionPolicy): AuditEvent {
  const rule = policy.tenants.get(event.tenant) ?? policy.default
  const extra = rule.sensitiveFields.filter((path) => !event.sensitive_fields.includes(path))
  if (event.sensitive_fields.length === 0 && extra.length === 0) return event
  const sensitive =
    extra.length === 0 ? event : { ...event, sensitive_fields: [...event.sensitive_fields, ...extra] }
  return redactEvent(sensitive, rule.method)
}
