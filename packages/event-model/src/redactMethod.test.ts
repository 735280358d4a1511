import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseJsonText } from './jsonValueParse.js'
import { droppedValue, redactedHashPrefix, replacementFor } from './redactMethod.js'

const hashWith = (hmacKey: string | Uint8Array) => {
  const replace = replacementFor({ mode: 'hash', hmacKey })
  return (jsonText: string) => replace(parseJsonText(jsonText, 'value'))
}

describe('replacementFor hash', () => {
  const hash = hashWith('k1-secret')

  it('writes hmac-sha256: and 64 hex digits', () => {
    expect(hash('"ada@example.com"')).toMatch(/^hmac-sha256:[0-9a-f]{64}$/)
    expect(redactedHashPrefix).toBe('hmac-sha256:')
  })

  it('is the HMAC-SHA256 of the canonical JSON text under the key', () => {
    // printf '%s' '"ada@example.com"' | openssl dgst -sha256 -hmac k1-secret
    expect(hash('"ada@example.com"')).toBe(
      'hmac-sha256:f124e3b4a27924575696204aefa355a8ba6c45e80aad2bcdad46667f9d0a7bbe',
    )
  })

  it('gives the same string for the same value and key, however the JSON is formatted', () => {
    expect(hash('{"b":[1, 2],"a":"x"}')).toBe(hash('{ "a": "x", "b": [1,2] }'))
    expect(hash('"\\u0041"')).toBe(hash('"A"'))
    expect(hashWith(new TextEncoder().encode('k1-secret'))('"A"')).toBe(hash('"A"'))
  })

  it('gives different strings for different values, and under another key', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const [textA, textB] = [JSON.stringify(a), JSON.stringify(b)]
        fc.pre(textA !== textB)
        expect(hash(textA)).not.toBe(hash(textB))
        expect(hashWith('k2-secret')(textA)).not.toBe(hash(textA))
      }),
    )
    expect(hash('"1"')).not.toBe(hash('1'))
    expect(hash('null')).not.toBe(hash('"null"'))
  })

  it('refuses an empty key, which anyone could recompute', () => {
    expect(() => replacementFor({ mode: 'hash', hmacKey: '' })).toThrow('hmacKey must not be empty')
    expect(() => replacementFor({ mode: 'hash', hmacKey: new Uint8Array() })).toThrow(RangeError)
  })
})

describe('replacementFor drop', () => {
  it('writes [redacted] whatever the value', () => {
    const drop = replacementFor({ mode: 'drop' })
    expect(drop(parseJsonText('"ada@example.com"', 'value'))).toBe(droppedValue)
    expect(drop(parseJsonText('{"pin":1234}', 'value'))).toBe('[redacted]')
  })
})

describe('replacementFor on values already replaced', () => {
  it('keeps them, so redacting twice (producer, then normalizer) changes nothing', () => {
    const hash = hashWith('k1-secret')
    const hashed = hash('"ada@example.com"')
    const drop = replacementFor({ mode: 'drop' })
    expect(hash(JSON.stringify(hashed))).toBe(hashed)
    expect(hash(JSON.stringify(droppedValue))).toBe(droppedValue)
    expect(drop(parseJsonText(JSON.stringify(hashed), 'value'))).toBe(hashed)
    expect(drop(parseJsonText('"[redacted]"', 'value'))).toBe(droppedValue)
  })

  it('still replaces look-alikes that are not replacements', () => {
    const hash = hashWith('k1-secret')
    expect(hash('"hmac-sha256:abc"')).toMatch(/^hmac-sha256:[0-9a-f]{64}$/)
    expect(hash('"hmac-sha256:abc"')).not.toBe('hmac-sha256:abc')
    expect(hash('"[REDACTED]"')).not.toBe('[REDACTED]')
  })
})
