import { AuditError } from '@audit-pipeline/errors'
import { redactEvent, type AuditEvent, type RedactionMethod } from '@audit-pipeline/event-model'
import { sealEvent, type KeyStore, type SubjectRule } from '@audit-pipeline/field-encryption'
import { ProducerError } from './producerError.js'

/**
 * Sealing at the source (packages/field-encryption): each sensitive value is encrypted under its
 * data subject's key, so whoever may read it (an auditor through the query API) can open it, and
 * erasing the subject (`audit-pipeline erase`) makes it unreadable wherever it was copied.
 */
export type EncryptionOptions = {
  /** Where the data keys are: `openLocalKeyStore(...)`, or a KMS-backed KeyStore. */
  keys: KeyStore
  /** Whose data the values are, which decides their key and so what one erasure destroys. Default: the actor. */
  subject?: SubjectRule
}

/**
 * Hides an event's sensitive values before it leaves the process: drops or hashes them (at once),
 * or seals them (once the key store has given the keys).
 */
export type SourceProtection = (event: AuditEvent) => AuditEvent | Promise<AuditEvent>

/**
 * The protection the producer's options ask for: sealing with `encryption`, else `redaction`
 * (dropped by default). Throws a TypeError when both are given, or when `redaction` is the
 * `encrypt` mode, whose `seal` belongs to one event: `encryption` seals each event for itself.
 */
export function sourceProtection(options: {
  redaction?: RedactionMethod | undefined
  encryption?: EncryptionOptions | undefined
}): SourceProtection {
  const { redaction, encryption } = options
  if (redaction && encryption) {
    throw new TypeError(
      `give either redaction (sensitive values ${redaction.mode === 'hash' ? 'hashed' : 'dropped'}) or encryption (sealed under their subject's key), not both`,
    )
  }
  if (encryption) {
    const keys = reportingFailures(encryption.keys)
    const subject = encryption.subject ?? { kind: 'actor' }
    return (event) => sealEvent(event, keys, subject)
  }
  const method: RedactionMethod = redaction ?? { mode: 'drop' }
  if (method.mode === 'encrypt') {
    throw new TypeError(
      "redaction mode 'encrypt' seals for one event only: give encryption: { keys } to seal each event under its subject's key",
    )
  }
  return (event) => redactEvent(event, method)
}

/**
 * Whether sending again may help after the key store failed: only when the store says so, with
 * an AuditError marked retriable (a KMS timeout, say). The KeyStore seam has no such flag of its
 * own, and its KeyStoreError means a store that cannot be used (a file missing or unreadable, a
 * wrong key-encryption key), which trying again does not mend.
 */
export function keyStoreFailureRetriable(error: unknown): boolean {
  return error instanceof AuditError && error.retriable
}

/** The store, its failures turned into ProducerError KEY_STORE_UNAVAILABLE (the event was not sent). */
function reportingFailures(keys: KeyStore): KeyStore {
  const failed = (what: string) => (error: unknown) => {
    throw new ProducerError(
      'KEY_STORE_UNAVAILABLE',
      // Never the subject: it is personal data, and this message may well be logged.
      `cannot seal sensitive values: the key store did not give ${what}: ${(error as Error)?.message ?? String(error)}`,
      keyStoreFailureRetriable(error),
      { cause: error },
    )
  }
  return {
    dataKeyFor: (tenant, subject) =>
      attempt(() => keys.dataKeyFor(tenant, subject)).catch(failed(`a data key of tenant ${tenant}`)),
    indexKeyFor: (tenant) =>
      attempt(() => keys.indexKeyFor(tenant)).catch(failed(`the blind-index key of tenant ${tenant}`)),
    keyById: (keyId) => keys.keyById(keyId),
    erase: (tenant, subject) => keys.erase(tenant, subject),
  }
}

/** A store method that throws instead of rejecting rejects all the same. */
async function attempt<T>(call: () => Promise<T>): Promise<T> {
  return call()
}
