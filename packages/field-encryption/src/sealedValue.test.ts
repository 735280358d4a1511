import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { JsonNumber, parseJsonText, sealedValuePattern, writeJsonText } from '@audit-pipeline/event-model'
import {
  blindIndex,
  openSealedBytes,
  openSealedValue,
  parseSealedValue,
  sealBytes,
  sealedBytesLength,
  sealValue,
  type DataKey,
} from './sealedValue.js'

const dataKey: DataKey = { id: 'kTestKey1', tenant: 'acme', key: randomBytes(32) }
const otherKey: DataKey = { id: 'kTestKey2', tenant: 'acme', key: randomBytes(32) }
const indexKey = randomBytes(32)
const context = { tenant: 'acme', eventId: '0b9e3c9a-3f4e-4a7e-9d55-5c1c8f2f1a01' }

describe('sealed values', () => {
  const values = [
    'alice@example.com',
    new JsonNumber('12345678901234567891'),
    parseJsonText('{"street":"1 Main St","zip":"90210","tags":["a",null,true]}', 'test'),
    null,
    '',
    'ünïcödé \u2028 😀',
  ]

  it.each(values.map((value) => [writeJsonText(value, { sortKeys: false }), value]))(
    'opens %s to the same value, digit for digit and key for key',
    (_, value) => {
      const sealed = sealValue(value, dataKey, indexKey, context)
      expect(sealed).toMatch(sealedValuePattern)
      expect(sealed).not.toContain('alice')
      const opened = openSealedValue(sealed, dataKey, context)
      expect(opened === undefined ? 'undefined' : writeJsonText(opened, { sortKeys: false })).toBe(
        writeJsonText(value, { sortKeys: false }),
      )
    },
  )

  it('is deterministic for one event and differs between events', () => {
    const once = sealValue('alice@example.com', dataKey, indexKey, context)
    expect(sealValue('alice@example.com', dataKey, indexKey, context)).toBe(once)
    const elsewhere = sealValue('alice@example.com', dataKey, indexKey, { ...context, eventId: 'e2' })
    expect(elsewhere).not.toBe(once)
    // Equal values keep equal blind indexes across events: that is what equality search uses.
    expect(parseSealedValue(elsewhere)?.blindIndex).toBe(parseSealedValue(once)?.blindIndex)
    expect(parseSealedValue(once)?.blindIndex).toBe(blindIndex('alice@example.com', indexKey))
    expect(blindIndex('bob@example.com', indexKey)).not.toBe(blindIndex('alice@example.com', indexKey))
  })

  it('does not open under another key, in another event or tenant, or with a byte changed', () => {
    const sealed = sealValue('alice@example.com', dataKey, indexKey, context)
    expect(openSealedValue(sealed, otherKey, context)).toBeUndefined()
    // The same bytes relabelled with the other key's id still fail: the key id is authenticated.
    expect(openSealedValue(sealed.replace(dataKey.id, otherKey.id), otherKey, context)).toBeUndefined()
    expect(openSealedValue(sealed, dataKey, { ...context, eventId: 'another' })).toBeUndefined()
    expect(openSealedValue(sealed, dataKey, { ...context, tenant: 'globex' })).toBeUndefined()
    const payloadStart = sealed.lastIndexOf(':') + 1
    for (let i = payloadStart; i < sealed.length; i += 7) {
      const flipped = sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1)
      expect(openSealedValue(flipped, dataKey, context), `byte at ${i}`).toBeUndefined()
    }
    expect(openSealedValue('enc:v1:kTestKey1:0123456789abcdef:short', dataKey, context)).toBeUndefined()
    expect(openSealedValue('not sealed', dataKey, context)).toBeUndefined()
  })

  it('opens with the event id in either case (the store lower-cases UUIDs)', () => {
    const sealed = sealValue('x', dataKey, indexKey, { ...context, eventId: context.eventId.toUpperCase() })
    expect(openSealedValue(sealed, dataKey, context)).toBe('x')
  })
})

describe('sealed bytes', () => {
  it('open to the same bytes, 28 bytes longer, only under their key, event and tenant', () => {
    const bytes = Buffer.from('{"tenant":"acme","actor":{"id":"alice@example.com"}} \u0000\xff', 'latin1')
    const sealed = sealBytes(bytes, dataKey, context)
    expect(sealed).toHaveLength(sealedBytesLength(bytes.length))
    expect(sealed.toString('latin1')).not.toContain('alice')
    expect(sealBytes(bytes, dataKey, context).equals(sealed)).toBe(true)
    expect(openSealedBytes(sealed, dataKey, context)?.equals(bytes)).toBe(true)
    expect(openSealedBytes(sealed, otherKey, context)).toBeUndefined()
    expect(openSealedBytes(sealed, dataKey, { ...context, eventId: 'another' })).toBeUndefined()
    expect(openSealedBytes(sealed, dataKey, { ...context, tenant: 'globex' })).toBeUndefined()
    for (let i = 0; i < sealed.length; i += 5) {
      const flipped = Buffer.from(sealed)
      flipped[i] = (flipped[i] ?? 0) ^ 1
      expect(openSealedBytes(flipped, dataKey, context), `byte ${i}`).toBeUndefined()
    }
    expect(openSealedBytes(sealed.subarray(0, 20), dataKey, context)).toBeUndefined()
  })

  it('never open as a sealed value, nor a sealed value as bytes', () => {
    const text = 'x'
    const asValue = parseSealedValue(sealValue(text, dataKey, indexKey, context))!.payload
    expect(openSealedBytes(asValue, dataKey, context)).toBeUndefined()
  })
})
