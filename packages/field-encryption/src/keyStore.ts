import type { DataKey } from './sealedValue.js'

/** What a KeyStore knows of a key id. */
export type KeyLookup =
  | { readonly state: 'active'; readonly key: DataKey }
  | { readonly state: 'erased'; readonly tenant: string; readonly erasedAt: Date }
  | { readonly state: 'unknown' }

/** What an erasure destroyed. */
export type Erasure = {
  readonly tenant: string
  /** SHA-256 (hex) of tenant NUL subject: what records of the erasure name instead of the subject. */
  readonly subjectDigest: string
  /** The data keys destroyed; empty when the subject had none (nothing was ever sealed for it). */
  readonly keyIds: readonly string[]
  readonly erasedAt: Date
}

/**
 * Where data keys live. Each (tenant, data subject) has one data key, made on first use and
 * kept wrapped by a key-encryption key; erasing a subject destroys its keys, after which every
 * value sealed under them is unreadable wherever it was copied. The local implementation keeps
 * wrapped keys in files (localKeyStore.ts); a KMS-backed one (AWS KMS, Vault transit) implements
 * the same four methods, wrapping and unwrapping through the KMS (see the package README).
 */
export interface KeyStore {
  /** The subject's data key, made when it has none (or had one erased). */
  dataKeyFor(tenant: string, subject: string): Promise<DataKey>
  /** A key by the id a sealed value names. */
  keyById(keyId: string): Promise<KeyLookup>
  /** The tenant's blind-index key (equal values, equal indexes; never leaves the store's users). */
  indexKeyFor(tenant: string): Promise<Buffer>
  /** Destroys the subject's data keys. Idempotent: erasing again destroys nothing more. */
  erase(tenant: string, subject: string): Promise<Erasure>
}

/** A key store that cannot be used: a file missing or unreadable, a wrong key-encryption key. */
export class KeyStoreError extends Error {
  override readonly name = 'KeyStoreError'
}
