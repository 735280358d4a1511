import { createHmac } from 'node:crypto'
import type { Message } from 'kafkajs'
import {
  openSealedBytes,
  openSealedValue,
  sealBytes,
  sealedBytesLength,
  sealValue,
  type DataKey,
  type KeyLookup,
  type KeyStore,
  type SealContext,
} from '@audit-pipeline/field-encryption'
import { deadLetterHeaderNames as names, maxErrorMessageBytes } from './deadLetterHeaders.js'
import type { DeadLetter, DeadLetterLocation, DeadLetterSealing } from './deadLetterRecord.js'
import { keyIdSeparator, sealedKeyIds, sealingKeyId } from './sealingKeyIds.js'
import { truncateUtf8 } from './truncateUtf8.js'

/**
 * Whose data a refused message holds, as its service could tell from the message: the tenant and
 * the data subject under the tenant's subject rule (packages/field-encryption's subjectRule.ts).
 */
export type DeadLetterOwner = { readonly tenant: string; readonly subject: string }

/** What sealDeadLetter makes, for withSeal to put on the dead letter. */
export type DeadLetterSeal = {
  /**
   * The data keys' ids, innermost first, joined by commas (one id for one owner): the
   * `audit-dlq-sealed` header. Key ids are letters, digits, `_` and `-`.
   */
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
 * Seals a refused message's value and error message under the data key of its owner, or, for a
 * batch whose events belong to several data subjects, under a key derived from all their data keys
 * (`letterKey`): without any one of them it cannot be derived, so erasing any subject leaves the
 * whole unreadable — never one subject's data in the clear because another's key still exists.
 * The value is sealed as bytes (field-encryption's sealBytes: 28 bytes more, no blind index); the
 * error message, a header, as a sealed value of a JSON pair: where the original came from, and
 * the message. `source` is in the additional data of both, so each opens only as the dead letter
 * of that very message. Sealing is deterministic (a synthetic IV, owners in sorted order), so a
 * message dead-lettered twice after a crash gives the same bytes.
 *
 * Why the pair: sealValue's blind index covers the value alone, and with the message alone in it,
 * two dead letters of the same error would show equal indexes to anyone reading the topic. With
 * where each came from beside it, every dead letter's index is its own.
 *
 * Throws what the key store throws; a caller that must not write plaintext treats that as an
 * outage, never as a reason to write the dead letter unsealed.
 */
export async function sealDeadLetter(
  input: {
    owners: readonly DeadLetterOwner[]
    source: DeadLetterLocation
    value: Buffer
    errorMessage: string
  },
  keys: KeyStore,
): Promise<DeadLetterSeal> {
  const { source } = input
  const owners = distinctOwners(input.owners)
  const first = owners[0]
  if (first === undefined) throw new RangeError('a dead letter is sealed for one owner at least')
  const [dataKeys, indexKey] = await Promise.all([
    Promise.all(owners.map((owner) => keys.dataKeyFor(owner.tenant, owner.subject))),
    keys.indexKeyFor(first.tenant),
  ])
  const key = letterKey(dataKeys, source)
  const value = sealBytes(input.value, key, sealContext(key.tenant, 'value', source))
  const errorMessage = sealValue(
    [whereFrom(source), truncateUtf8(input.errorMessage, maxErrorMessageBytes)],
    key,
    indexKey,
    sealContext(key.tenant, 'error-message', source),
  )
  return { keyId: dataKeys.map((dataKey) => dataKey.id).join(keyIdSeparator), value, errorMessage }
}

/**
 * The key a dead letter is sealed under: its one owner's data key, or for several an HMAC chain
 * over all their data keys (in the header's order) and where the letter's original came from,
 * which no one can compute without every one of them. Its tenant (in the additional data) is the
 * first owner's.
 */
function letterKey(dataKeys: readonly DataKey[], source: DeadLetterLocation): DataKey {
  const [first] = dataKeys
  if (first === undefined) throw new RangeError('no data key')
  if (dataKeys.length === 1) return first
  let key = Buffer.from(`audit-pipeline dead letter ${whereFrom(source)}`)
  for (const dataKey of dataKeys) key = createHmac('sha256', dataKey.key).update(key).digest()
  return {
    id: sealingKeyId(dataKeys.map((dataKey) => dataKey.id).join(keyIdSeparator)),
    tenant: first.tenant,
    key,
  }
}

/** Each owner once, sorted by tenant then subject (code units): the order of the layers. */
function distinctOwners(owners: readonly DeadLetterOwner[]): DeadLetterOwner[] {
  const byKey = new Map(owners.map((owner) => [`${owner.tenant}\u0000${owner.subject}`, owner]))
  return [...byKey.keys()].sort().map((key) => byKey.get(key) as DeadLetterOwner)
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
  const lookUp = (keyId: string) => {
    let lookup = lookups.get(keyId)
    if (lookup === undefined) {
      lookup = keys.keyById(keyId)
      lookups.set(keyId, lookup)
    }
    return lookup
  }
  return async (dead) => openDeadLetter(dead, await Promise.all(sealedKeyIds(dead.sealed).map(lookUp)))
}

/**
 * Opens a sealed dead letter with what the key store knows of its keys (one lookup per key id of
 * its header, in that order). Erased as soon as one of its keys is.
 */
export function openDeadLetter(
  dead: SealedDeadLetter,
  lookups: KeyLookup | readonly KeyLookup[],
): DeadLetterOpening {
  const { keyId } = dead.sealed
  const ids = sealedKeyIds(dead.sealed)
  const found: readonly KeyLookup[] = Array.isArray(lookups) ? lookups : [lookups as KeyLookup]
  const erased = found.find((lookup) => lookup.state === 'erased')
  if (erased?.state === 'erased') {
    return { state: 'erased', keyId, tenant: erased.tenant, erasedAt: erased.erasedAt }
  }
  const dataKeys = found.flatMap((lookup, i) =>
    lookup.state === 'active' && lookup.key.id === ids[i] ? [lookup.key] : [],
  )
  if (found.length !== ids.length || dataKeys.length !== ids.length) return { state: 'unknown-key', keyId }
  const key = letterKey(dataKeys, dead.source)
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
  const tenants = [...new Set(dataKeys.map((dataKey) => dataKey.tenant))].join(',')
  return { state: 'opened', keyId, tenant: tenants, value, message: openMessage(dead.sealed.errorMessage) }
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
