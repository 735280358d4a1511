import type { Message } from 'kafkajs'
import {
  openSealedBytes,
  openSealedValue,
  sealBytes,
  sealedBytesLength,
  sealValue,
  type KeyLookup,
  type KeyStore,
  type SealContext,
} from '@audit-pipeline/field-encryption'
import { deadLetterHeaderNames as names, maxErrorMessageBytes } from './deadLetterHeaders.js'
import type { DeadLetter, DeadLetterLocation, DeadLetterSealing } from './deadLetterRecord.js'
import { truncateUtf8 } from './truncateUtf8.js'

/**
 * Whose data a refused message holds, as its service could tell from the message: the tenant and
 * the data subject under the tenant's subject rule (packages/field-encryption's subjectRule.ts).
 */
export type DeadLetterOwner = { readonly tenant: string; readonly subject: string }

/** What sealDeadLetter makes, for withSeal to put on the dead letter. */
export type DeadLetterSeal = {
  /** The data key's id: the `audit-dlq-sealed` header. */
  readonly keyId: string
  /** The dead letter's value: the original bytes sealed (field-encryption's sealBytes). */
  readonly value: Buffer
  /** The error message, sealed under the same key: `audit-dlq-sealed-error-message`. */
  readonly errorMessage: string
}

/**
 * The `audit-dlq-error-message` of a sealed dead letter. Error messages may quote the message
 * (an unknown field's name, a change path with a key in it, an unknown category), so the real one
 * is sealed beside the value and this fixed text stands in its place.
 */
export const sealedErrorMessageText =
  'sealed with the value (audit-pipeline dlq list opens both with the key store)'

/**
 * Seals a refused message's value and error message under the data key of `owner`, for a dead
 * letter whose original came from `source`. The value is sealed as bytes (field-encryption's
 * sealBytes: 28 bytes more, no blind index); the error message, a header, as a sealed value of a
 * JSON pair: where the original came from, and the message. `source` is in the additional data of
 * both, so each opens only as the dead letter of that very message, and never once the subject is
 * erased. Sealing is deterministic (a synthetic IV), so a message dead-lettered twice after a
 * crash gives the same bytes.
 *
 * Why the pair: sealValue's blind index covers the value alone, and with the message alone in it,
 * two dead letters of the same error would show equal indexes to anyone reading the topic. With
 * where each came from beside it, every dead letter's index is its own.
 *
 * Throws what the key store throws; a caller that must not write plaintext treats that as an
 * outage, never as a reason to write the dead letter unsealed.
 */
export async function sealDeadLetter(
  input: { owner: DeadLetterOwner; source: DeadLetterLocation; value: Buffer; errorMessage: string },
  keys: KeyStore,
): Promise<DeadLetterSeal> {
  const { owner, source } = input
  const [dataKey, indexKey] = await Promise.all([
    keys.dataKeyFor(owner.tenant, owner.subject),
    keys.indexKeyFor(owner.tenant),
  ])
  const value = sealBytes(input.value, dataKey, sealContext(owner.tenant, 'value', source))
  const errorMessage = sealValue(
    [whereFrom(source), truncateUtf8(input.errorMessage, maxErrorMessageBytes)],
    dataKey,
    indexKey,
    sealContext(owner.tenant, 'error-message', source),
  )
  return { keyId: dataKey.id, value, errorMessage }
}

/**
 * The dead letter `letter` (as buildDeadLetter made it) with its value and error message sealed:
 * the key and every other header stay as they are.
 */
export function withSeal(letter: Message, seal: DeadLetterSeal): Message {
  return {
    ...letter,
    value: seal.value,
    headers: {
      ...letter.headers,
      [names.errorMessage]: sealedErrorMessageText,
      [names.sealed]: seal.keyId,
      [names.sealedErrorMessage]: seal.errorMessage,
    },
  }
}

/**
 * The most bytes a value of `bytes` bytes takes once sealed by sealDeadLetter: 28 more (IV and
 * tag). The dead-letter topic's `max.message.bytes` must leave room for it.
 */
export function sealedValueBytes(bytes: number): number {
  return sealedBytesLength(bytes)
}

/** What opening a sealed dead letter gave. */
export type DeadLetterOpening =
  | {
      readonly state: 'opened'
      readonly keyId: string
      readonly tenant: string
      /** The original bytes, as the producer sent them. */
      readonly value: Buffer
      /** The original error message; undefined when the dead letter carries none, or it does not open. */
      readonly message: string | undefined
    }
  /** Its data subject was erased: gone by design. */
  | { readonly state: 'erased'; readonly keyId: string; readonly tenant: string; readonly erasedAt: Date }
  /** The key store does not know the key: another store than the one that sealed it. */
  | { readonly state: 'unknown-key'; readonly keyId: string }
  /** The key is there, but the value does not open with it: changed, or moved from another dead letter. */
  | { readonly state: 'unreadable'; readonly keyId: string }

/** A sealed dead letter: what openDeadLetter takes. */
export type SealedDeadLetter = DeadLetter & { sealed: DeadLetterSealing }

export function isSealed(dead: DeadLetter): dead is SealedDeadLetter {
  return dead.sealed !== undefined
}

/**
 * Opens sealed dead letters with `keys`, looking each key up once per opener: make one per
 * listing, or per batch of a replay, so an erasure is seen by the next one.
 */
export function deadLetterOpener(keys: KeyStore): (dead: SealedDeadLetter) => Promise<DeadLetterOpening> {
  const lookups = new Map<string, Promise<KeyLookup>>()
  return async (dead) => {
    const { keyId } = dead.sealed
    let lookup = lookups.get(keyId)
    if (lookup === undefined) {
      lookup = keys.keyById(keyId)
      lookups.set(keyId, lookup)
    }
    return openDeadLetter(dead, await lookup)
  }
}

/** Opens a sealed dead letter with what the key store knows of its key. */
export function openDeadLetter(dead: SealedDeadLetter, lookup: KeyLookup): DeadLetterOpening {
  const { keyId } = dead.sealed
  if (lookup.state === 'erased') {
    return { state: 'erased', keyId, tenant: lookup.tenant, erasedAt: lookup.erasedAt }
  }
  if (lookup.state !== 'active' || lookup.key.id !== keyId) return { state: 'unknown-key', keyId }
  const { key } = lookup
  const value =
    dead.value === null
      ? undefined
      : openSealedBytes(dead.value, key, sealContext(key.tenant, 'value', dead.source))
  if (value === undefined) return { state: 'unreadable', keyId }
  const openMessage = (sealed: string | undefined): string | undefined => {
    if (sealed === undefined) return undefined
    const pair = openSealedValue(sealed, key, sealContext(key.tenant, 'error-message', dead.source))
    if (!Array.isArray(pair) || pair.length !== 2 || pair[0] !== whereFrom(dead.source)) return undefined
    return typeof pair[1] === 'string' ? pair[1] : undefined
  }
  return { state: 'opened', keyId, tenant: key.tenant, value, message: openMessage(dead.sealed.errorMessage) }
}

type SealedPart = 'value' | 'error-message'

/** `<topic>/<partition>/<offset>` of the original: sealed beside each part (sealDeadLetter says why). */
function whereFrom(source: DeadLetterLocation): string {
  return `${source.topic}/${source.partition}/${source.offset}`
}

/**
 * What a sealed part of a dead letter is sealed for: its tenant, and in place of an event id, the
 * part and the original's topic, partition and offset (the `audit-dlq-source-*` headers). A
 * sealed value copied into another dead letter, or from the value into the error message, does
 * not open there.
 */
function sealContext(tenant: string, part: SealedPart, source: DeadLetterLocation): SealContext {
  return { tenant, eventId: `dead-letter ${part} ${whereFrom(source)}` }
}
