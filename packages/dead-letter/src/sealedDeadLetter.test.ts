import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IHeaders, Message } from 'kafkajs'
import { describe, expect, it, onTestFinished } from 'vitest'
import { openLocalKeyStore, parseSealedValue, type KeyStore } from '@audit-pipeline/field-encryption'
import { DeadLetterFormatError } from './deadLetterFormatError.js'
import { deadLetterHeaderNames as names } from './deadLetterHeaders.js'
import { buildDeadLetter, readDeadLetter, type DeadLetter } from './deadLetterRecord.js'
import { replayMessageFor } from './replayMessage.js'
import {
  deadLetterOpener,
  isSealed,
  openDeadLetter,
  sealDeadLetter,
  sealedErrorMessageText,
  sealedValueBytes,
  withSeal,
  type SealedDeadLetter,
} from './sealedDeadLetter.js'

const owner = { tenant: 'witify', subject: 'u-1002' }
const source = { topic: 'audit.events', partition: 3, offset: '1234' }
const dlq = { topic: 'audit.dlq', partition: 0, offset: '7' }
const plaintext = '{"tenant":"witify","actor":{"id":"u-1002"},"occurred_at":"jack.peltrow@example.com"}'
const errorMessage = "invalid audit event: occurred_at: 'jack.peltrow@example.com' is not an ISO-8601 time"

function keyStore(): KeyStore {
  const directory = mkdtempSync(join(tmpdir(), 'dead-letter-keys-'))
  onTestFinished(() => rmSync(directory, { recursive: true, force: true }))
  return openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32), cacheMs: 0 })
}

/** The dead letter the normalizer writes for `value`, sealed for `owner`. */
async function sealedLetter(keys: KeyStore, value = Buffer.from(plaintext)): Promise<Message> {
  const built = buildDeadLetter({
    source: {
      ...source,
      timestamp: '1767225600000',
      key: Buffer.from('witify/ticket/9548-B1'),
      value,
      headers: { 'content-type': Buffer.from('application/json') },
    },
    error: { errorClass: 'EVENT_INVALID', message: errorMessage },
    service: 'normalizer',
    now: new Date('2026-03-01T10:00:00Z'),
  })
  return withSeal(built, await sealDeadLetter({ owners: [owner], source, value, errorMessage }, keys))
}

/** As a consumer of the dead-letter topic reads it: every header as bytes. */
function readBack(message: Message, at = dlq): DeadLetter {
  const bytes = (value: Buffer | string) => (typeof value === 'string' ? Buffer.from(value) : value)
  const headers: IHeaders = {}
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(bytes) : bytes(value)
  }
  return readDeadLetter(
    {
      key: message.key === undefined || message.key === null ? null : bytes(message.key),
      value: message.value === null || message.value === undefined ? null : bytes(message.value),
      headers,
    },
    at,
  )
}

function sealed(dead: DeadLetter): SealedDeadLetter {
  if (!isSealed(dead)) throw new Error('expected a sealed dead letter')
  return dead
}

describe('a sealed dead letter', () => {
  it('holds neither the value nor the error message in the clear; the key, the class and the source stay', async () => {
    const keys = keyStore()
    const message = await sealedLetter(keys)
    const everything = JSON.stringify({
      value: String(message.value),
      headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
    })
    expect(everything).not.toMatch(/jack|peltrow|u-1002/i)
    const dead = readBack(message)
    expect(dead).toMatchObject({
      errorClass: 'EVENT_INVALID',
      message: sealedErrorMessageText,
      source: { ...source, timestamp: '1767225600000' },
      key: Buffer.from('witify/ticket/9548-B1'),
      originalHeaders: { 'content-type': Buffer.from('application/json') },
      sealed: { keyId: (await keys.dataKeyFor(owner.tenant, owner.subject)).id },
    })
    // The original bytes sealed: IV and tag more, nothing of them readable.
    expect(dead.value).toHaveLength(Buffer.byteLength(plaintext) + 28)
    expect(dead.value!.toString('latin1')).not.toContain(plaintext.slice(0, 12))
  })

  it('opens to the original bytes and error message with the key store', async () => {
    const keys = keyStore()
    const dead = sealed(readBack(await sealedLetter(keys)))
    expect(await deadLetterOpener(keys)(dead)).toEqual({
      state: 'opened',
      keyId: dead.sealed.keyId,
      tenant: 'witify',
      value: Buffer.from(plaintext),
      message: errorMessage,
    })
  })

  it('keeps bytes that are not text, byte for byte', async () => {
    const keys = keyStore()
    const value = Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x80, 0x7d])
    const dead = sealed(readBack(await sealedLetter(keys, value)))
    expect(await deadLetterOpener(keys)(dead)).toMatchObject({ state: 'opened', value })
  })

  it('opens a message of a megabyte, and stays within sealedValueBytes', async () => {
    const keys = keyStore()
    const value = Buffer.from(`{"note":"${randomBytes(750_000).toString('base64')}"}`)
    const message = await sealedLetter(keys, value)
    expect((message.value as Buffer).length).toBeLessThanOrEqual(sealedValueBytes(value.length))
    const opened = await deadLetterOpener(keys)(sealed(readBack(message)))
    expect(opened.state === 'opened' && opened.value.equals(value)).toBe(true)
  })

  it('bounds a sealed value by sealedValueBytes at every size', async () => {
    const keys = keyStore()
    for (const size of [0, 1, 2, 3, 4, 100, 1000, 4097]) {
      const sealing = await sealDeadLetter(
        { owners: [owner], source, value: randomBytes(size), errorMessage: 'x' },
        keys,
      )
      expect(sealing.value.length, `${size} bytes`).toBeLessThanOrEqual(sealedValueBytes(size))
      // Short only by a key id and a topic name shorter than the longest.
      expect(sealing.value.length, `${size} bytes`).toBeGreaterThan(sealedValueBytes(size) - 400)
    }
  })

  it('seals the same message to the same bytes: a dead letter written again after a crash is a copy', async () => {
    const keys = keyStore()
    const input = { owners: [owner], source, value: Buffer.from(plaintext), errorMessage }
    expect(await sealDeadLetter(input, keys)).toEqual(await sealDeadLetter(input, keys))
  })

  it('gives two dead letters of the same bytes and error bytes and blind indexes of their own: nothing links them', async () => {
    const keys = keyStore()
    const input = { owners: [owner], source, value: Buffer.from(plaintext), errorMessage }
    const first = await sealDeadLetter(input, keys)
    const again = await sealDeadLetter({ ...input, source: { ...source, offset: '1300' } }, keys)
    const indexOf = (sealed: string) => parseSealedValue(sealed)?.blindIndex
    expect(again.value.equals(first.value)).toBe(false)
    expect(indexOf(again.errorMessage)).toBeDefined()
    expect(indexOf(again.errorMessage)).not.toBe(indexOf(first.errorMessage))
  })

  it('reads [erased] once its subject is erased, and nothing opens it any more', async () => {
    const keys = keyStore()
    const dead = sealed(readBack(await sealedLetter(keys)))
    await keys.erase(owner.tenant, owner.subject)
    expect(await deadLetterOpener(keys)(dead)).toMatchObject({
      state: 'erased',
      keyId: dead.sealed.keyId,
      tenant: 'witify',
      erasedAt: expect.any(Date) as Date,
    })
  })

  it('does not open as the dead letter of another message, or under another store', async () => {
    const keys = keyStore()
    const dead = sealed(readBack(await sealedLetter(keys)))
    const moved = { ...dead, source: { ...dead.source, offset: '1235' } }
    expect(await deadLetterOpener(keys)(moved)).toEqual({ state: 'unreadable', keyId: dead.sealed.keyId })
    // The value where the error message should be: sealed for another part, it does not open there.
    const swapped = { ...dead, sealed: { ...dead.sealed, errorMessage: String(dead.value) } }
    expect(await deadLetterOpener(keys)(swapped)).toMatchObject({ state: 'opened', message: undefined })
    expect(await deadLetterOpener(keyStore())(dead)).toEqual({
      state: 'unknown-key',
      keyId: dead.sealed.keyId,
    })
  })

  it('reads as unreadable when its bytes changed', async () => {
    const keys = keyStore()
    const dead = sealed(readBack(await sealedLetter(keys)))
    const lookup = await keys.keyById(dead.sealed.keyId)
    for (let i = 0; i < dead.value!.length; i += 7) {
      const flipped = Buffer.from(dead.value!)
      flipped[i] = (flipped[i] ?? 0) ^ 1
      expect(openDeadLetter({ ...dead, value: flipped }, lookup).state, `byte ${i}`).toBe('unreadable')
    }
  })

  it('is refused as a dead letter when it cannot be sealed, and never opens when it was not', async () => {
    const keys = keyStore()
    const message = await sealedLetter(keys)
    // Bytes that were never sealed read back, but never open: replay refuses them (below).
    const plain = sealed(readBack({ ...message, value: Buffer.from(plaintext) }))
    expect(openDeadLetter(plain, await keys.keyById(plain.sealed.keyId)).state).toBe('unreadable')
    const short = { ...message, value: Buffer.from('too short') }
    expect(() => readBack(short)).toThrow(DeadLetterFormatError)
    expect(() => readBack(short)).toThrow(
      /header audit-dlq-sealed names key '.+', but the value is too short to be sealed/,
    )
    const otherKey = { ...message, headers: { ...message.headers, [names.sealed]: 'k-other' } }
    expect(() => readBack(otherKey)).toThrow(/not sealed under key 'k-other'/)
    const { [names.sealed]: _keyId, ...withoutKey } = message.headers ?? {}
    expect(() => readBack({ ...message, headers: withoutKey })).toThrow(
      'header audit-dlq-sealed-error-message comes with audit-dlq-sealed, which is missing',
    )
  })

  it('is replayed only opened, never as its ciphertext', async () => {
    const keys = keyStore()
    const dead = sealed(readBack(await sealedLetter(keys)))
    expect(() => replayMessageFor(dead)).toThrow(
      'dead letter audit.dlq/0/7 is sealed: open it before replaying it',
    )
    const opened = await deadLetterOpener(keys)(dead)
    if (opened.state !== 'opened') throw new Error('expected it to open')
    expect(replayMessageFor(dead, opened)).toEqual({
      key: Buffer.from('witify/ticket/9548-B1'),
      value: Buffer.from(plaintext),
      headers: { 'content-type': Buffer.from('application/json'), 'audit-replayed-from': 'audit.dlq/0/7' },
    })
  })

  it("seals a batch of several subjects' data so that erasing any one of them leaves all of it unreadable", async () => {
    const keys = keyStore()
    const others = [
      { tenant: 'witify', subject: 'u-1003' },
      { tenant: 'acme', subject: 'c-9' },
    ]
    const owners = [owner, ...others, owner]
    const value = Buffer.from('[{"actor":{"id":"u-1002"}},{"actor":{"id":"u-1003"}},{"actor":{"id":"c-9"}}]')
    const letter = async (order: typeof owners) => {
      const built = buildDeadLetter({
        source: { ...source, timestamp: '1767225600000', key: null, value, headers: {} },
        error: { errorClass: 'EVENT_INVALID', message: errorMessage },
        service: 'normalizer',
        now: new Date('2026-03-01T10:00:00Z'),
      })
      return withSeal(built, await sealDeadLetter({ owners: order, source, value, errorMessage }, keys))
    }
    const message = await letter(owners)
    // The same bytes whatever the order the owners came in: a copy after a crash is a copy.
    expect(await letter([...owners].reverse())).toEqual(message)
    const dead = sealed(readBack(message))
    // Each key once, in the owners' sorted order (tenant, then subject).
    const ids = await Promise.all(
      [others[1]!, owner, others[0]!].map(async (o) => (await keys.dataKeyFor(o.tenant, o.subject)).id),
    )
    expect(dead.sealed.keyId).toBe(ids.join(','))
    expect(dead.value).toHaveLength(value.length + 28)
    expect(await deadLetterOpener(keys)(dead)).toEqual({
      state: 'opened',
      keyId: ids.join(','),
      tenant: 'acme,witify',
      value,
      message: errorMessage,
    })
    // Under none of the keys alone: with one key's lookup only, it does not open.
    const alone = await keys.keyById(ids[1]!)
    expect(openDeadLetter({ ...dead, sealed: { ...dead.sealed, keyId: ids[1]! } }, alone).state).toBe(
      'unreadable',
    )
    // Any one subject erased: nothing of it opens any more.
    await keys.erase(others[0]!.tenant, others[0]!.subject)
    expect(await deadLetterOpener(keys)(dead)).toMatchObject({ state: 'erased', tenant: 'witify' })
    expect(() => replayMessageFor(dead)).toThrow('is sealed: open it before replaying it')
  })

  it('is refused as a dead letter when its key list is not one', async () => {
    const keys = keyStore()
    const message = await sealedLetter(keys)
    const id = String(message.headers?.[names.sealed])
    for (const header of [`${id},`, `,${id}`, `${id};k2`, `${id},k 2`]) {
      expect(() => readBack({ ...message, headers: { ...message.headers, [names.sealed]: header } })).toThrow(
        'is not a list of key ids',
      )
    }
  })

  it('looks each key up once per opener', async () => {
    const keys = keyStore()
    const dead = sealed(readBack(await sealedLetter(keys)))
    let lookups = 0
    const counting: KeyStore = {
      ...keys,
      keyById: (keyId) => {
        lookups++
        return keys.keyById(keyId)
      },
    }
    const open = deadLetterOpener(counting)
    await Promise.all([open(dead), open(dead), open({ ...dead, dlq: { ...dead.dlq, offset: '8' } })])
    expect(lookups).toBe(1)
  })
})
