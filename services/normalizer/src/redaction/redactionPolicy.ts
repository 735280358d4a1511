import { parsePathPatterns } from '@audit-pipeline/event-model'
import { parseSubjectRule, subjectRuleForms, type SubjectRule } from '@audit-pipeline/field-encryption'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'

/**
 * Per-tenant redaction, applied to every event the normalizer passes on (applyRedactionPolicy.ts).
 * Producers using the SDK redact before sending; JSON, CloudEvents and Debezium producers do not,
 * and a tenant may call more fields sensitive than its producers do. Values already replaced stay
 * as they are (dropped, hashed or sealed), so events redacted by the SDK are not redacted twice.
 */
export type RedactionPolicy = {
  /** Applied to tenants not listed. */
  readonly default: TenantRedaction
  readonly tenants: ReadonlyMap<string, TenantRedaction>
}

export type TenantRedaction = {
  /** Paths treated as sensitive in every event of the tenant, besides the event's own sensitive_fields. */
  readonly sensitiveFields: readonly string[]
  readonly method: TenantRedactionMethod
}

/**
 * How a tenant's sensitive values are replaced: event-model's `drop` and `hash`, or `encrypt`,
 * sealed under the data key of the event's data subject (packages/field-encryption). The key store
 * is not part of the policy: it is opened at start-up (openFieldKeyStore.ts) and handed to
 * applyRedactionPolicy.
 */
export type TenantRedactionMethod =
  | { readonly mode: 'drop' }
  | { readonly mode: 'hash'; readonly hmacKey: string }
  | { readonly mode: 'encrypt'; readonly subject: SubjectRule }

/** What the methods need besides the file: which of them can be used. */
export type RedactionSecrets = {
  /** NORMALIZER_REDACTION_HMAC_KEY: the key of `hash`. */
  hmacKey?: string | undefined
  /** Whether FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE are set: the key store of `encrypt`. */
  fieldKeys?: boolean
}

/** Without a policy file: each event's own sensitive_fields, values dropped. */
export const defaultRedactionPolicy: RedactionPolicy = {
  default: { sensitiveFields: [], method: { mode: 'drop' } },
  tenants: new Map(),
}

const tenantSchema = z
  .object({
    method: z.enum(['drop', 'hash', 'encrypt'], { error: 'expected drop, hash or encrypt' }).default('drop'),
    /** Only with encrypt: whose key seals the values (subjectRule.ts). Default `actor`. */
    subject: z.string({ error: `expected ${subjectRuleForms}` }).optional(),
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
 *   acme: { method: hash, sensitive_fields: [customer.email, "cards[*].number"] }
 *   globex: { method: encrypt, subject: attribute:customer_id, sensitive_fields: [customer] }
 * ```
 *
 * `hash` needs `secrets.hmacKey` (NORMALIZER_REDACTION_HMAC_KEY); `encrypt` needs a key store
 * (FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE) and takes `subject`: `actor` (default), `record` or
 * `attribute:<name>`. Throws an Error naming the file and the first bad entry.
 */
export function parseRedactionPolicy(
  text: string,
  file: string,
  secrets: RedactionSecrets = {},
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
    return {
      sensitiveFields: Object.freeze([...entry.sensitive_fields]),
      method: tenantMethod(entry, `${file}: ${where}`, secrets),
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

function tenantMethod(
  entry: z.infer<typeof tenantSchema>,
  where: string,
  secrets: RedactionSecrets,
): TenantRedactionMethod {
  if (entry.subject !== undefined && entry.method !== 'encrypt') {
    // A subject elsewhere would suggest values are sealed when they are dropped or hashed.
    throw new Error(`${where}.subject: only method encrypt takes a subject (this entry uses ${entry.method})`)
  }
  switch (entry.method) {
    case 'drop':
      return { mode: 'drop' }
    case 'hash':
      if (!secrets.hmacKey) {
        throw new Error(
          `${where}.method: hash needs a secret key: set NORMALIZER_REDACTION_HMAC_KEY (or use drop)`,
        )
      }
      return { mode: 'hash', hmacKey: secrets.hmacKey }
    case 'encrypt': {
      if (!secrets.fieldKeys) {
        throw new Error(
          `${where}.method: encrypt needs a key store: set FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE (or use drop or hash)`,
        )
      }
      let subject: SubjectRule
      try {
        subject = parseSubjectRule(entry.subject ?? 'actor')
      } catch (error) {
        throw new Error(`${where}.subject: ${(error as Error).message}`, { cause: error })
      }
      return { mode: 'encrypt', subject }
    }
  }
}

/** The rule of `tenant`: its own, or the default. */
export function tenantRedactionOf(policy: RedactionPolicy, tenant: string): TenantRedaction {
  return policy.tenants.get(tenant) ?? policy.default
}

/** Whether any rule of the policy encrypts, and so needs a key store. */
export function policyEncrypts(policy: RedactionPolicy): boolean {
  return [policy.default, ...policy.tenants.values()].some((rule) => rule.method.mode === 'encrypt')
}
