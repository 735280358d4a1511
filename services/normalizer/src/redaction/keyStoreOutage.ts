import { AuditError } from '@audit-pipeline/errors'
import type { KeyStore } from '@audit-pipeline/field-encryption'

/** What the consumer runtime's `whileUnavailable` names the key store in its logs and readiness. */
export const keyStoreOutage = 'field key store'

/**
 * The field key store failed (a file it cannot read or write, a KMS that does not answer, a
 * key-encryption key that does not unwrap): not the event's fault. Retriable, like a registry
 * outage: the consumer runtime holds the message and retries it with backoff (packages/kafka's
 * isOutage), so it is neither dead-lettered nor passed on unsealed.
 */
export class KeyStoreUnavailableError extends AuditError<'KEY_STORE_UNAVAILABLE'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KEY_STORE_UNAVAILABLE', message, true, options)
  }
}

/**
 * The store, with every failure of its methods turned into a KeyStoreUnavailableError. Only the
 * store's own calls are wrapped: an error while sealing an event's values is the event's, and
 * goes on as it would under any other method.
 */
export function withRetriableFailures(keys: KeyStore): KeyStore {
  const retriable =
    <A extends unknown[], R>(method: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await call(...args)
      } catch (error) {
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
        throw new KeyStoreUnavailableError(`the field key store failed (${method}): ${reason}`, {
          cause: error,
        })
      }
    }
  return {
    dataKeyFor: retriable('dataKeyFor', (tenant: string, subject: string) =>
      keys.dataKeyFor(tenant, subject),
    ),
    keyById: retriable('keyById', (keyId: string) => keys.keyById(keyId)),
    indexKeyFor: retriable('indexKeyFor', (tenant: string) => keys.indexKeyFor(tenant)),
    erase: retriable('erase', (tenant: string, subject: string) => keys.erase(tenant, subject)),
  }
}
