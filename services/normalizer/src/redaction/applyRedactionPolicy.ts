import { redactEvent, type AuditEvent } from '@audit-pipeline/event-model'
import { sealEvent, type KeyStore } from '@audit-pipeline/field-encryption'
import { collapseChangesUnderSensitivePaths } from './collapseSensitiveChanges.js'
import { withRetriableFailures } from './keyStoreOutage.js'
import { tenantRedactionOf, type RedactionPolicy } from './redactionPolicy.js'

/**
 * The event with its tenant's sensitive paths added to `sensitive_fields`, changes under a
 * sensitive path merged into one at the path itself (collapseSensitiveChanges.ts, so that no path
 * spells out a key below it), and every sensitive value replaced by the tenant's method: dropped,
 * hashed, or sealed under the data key of the event's subject from `fieldKeys`.
 *
 * Deterministic (HMAC without salt; sealing with a synthetic IV under the subject's stored key),
 * so an event normalized twice after a crash is an exact copy.
 *
 * An event with no value left (changes without values, no snapshot) gets its sensitive paths
 * listed and its changes merged as above, and nothing more: the key store is not asked.
 *
 * Throws a retriable KeyStoreUnavailableError when the key store fails, for the caller to retry
 * the message, as it does when the schema registry is down: an event is never dead-lettered for
 * it, nor passed on unsealed.
 */
export async function applyRedactionPolicy(
  event: AuditEvent,
  policy: RedactionPolicy,
  fieldKeys?: KeyStore,
): Promise<AuditEvent> {
  const rule = tenantRedactionOf(policy, event.tenant)
  const extra = rule.sensitiveFields.filter((path) => !event.sensitive_fields.includes(path))
  if (event.sensitive_fields.length === 0 && extra.length === 0) return event
  const sensitiveFields = extra.length === 0 ? event.sensitive_fields : [...event.sensitive_fields, ...extra]
  const sensitive: AuditEvent = {
    ...event,
    sensitive_fields: sensitiveFields,
    changes: collapseChangesUnderSensitivePaths(event.changes, sensitiveFields),
  }
  // Only paths left (informative level 2): nothing to replace, and no key to fetch or create for it.
  if (!carriesValues(sensitive)) return sensitive
  const { method } = rule
  if (method.mode !== 'encrypt') return redactEvent(sensitive, method)
  if (fieldKeys === undefined) {
    // createNormalizer refuses a policy that encrypts without a store: this is a wiring bug.
    throw new Error(`tenant ${event.tenant} encrypts sensitive values, but no key store was given`)
  }
  return sealEvent(sensitive, withRetriableFailures(fieldKeys), method.subject)
}

/** Whether any change or snapshot of the event holds a value redaction would replace. */
function carriesValues(event: AuditEvent): boolean {
  return (
    event.before !== null ||
    event.after !== null ||
    event.changes.some((change) => change.old_value !== null || change.new_value !== null)
  )
}
