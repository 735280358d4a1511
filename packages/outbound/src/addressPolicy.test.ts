import { describe, expect, it } from 'vitest'
import { addressPolicy, checkAddress, ipLiteralOf } from './addressPolicy.js'

const none = addressPolicy([], "the destination's allowed_private_addresses")

describe('checkAddress', () => {
  it('allows public unicast and refuses private, loopback, link-local and the like', () => {
    expect(checkAddress('93.184.216.34', none)).toEqual({ allowed: true })
    expect(checkAddress('2606:2800:220:1::1', none)).toEqual({ allowed: true })
    for (const [address, range] of [
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['127.0.0.1', 'loopback'],
      ['169.254.169.254', 'linkLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['0.0.0.0', 'unspecified'],
      ['::1', 'loopback'],
      ['fe80::1', 'linkLocal'],
      ['fd00::1', 'uniqueLocal'],
      ['::ffff:10.0.0.1', 'private'],
    ] as const) {
      expect(checkAddress(address, none), address).toEqual({ allowed: false, range })
    }
  })

  it('allows what the operator lists, address or range, and nothing next to it', () => {
    const policy = addressPolicy(['127.0.0.1', '10.20.0.0/16'], 'the list')
    expect(checkAddress('127.0.0.1', policy)).toEqual({ allowed: true })
    expect(checkAddress('127.0.0.2', policy)).toEqual({ allowed: false, range: 'loopback' })
    expect(checkAddress('10.20.9.9', policy)).toEqual({ allowed: true })
    expect(checkAddress('10.21.0.1', policy)).toEqual({ allowed: false, range: 'private' })
  })

  it('refuses an entry that is not an address or range, naming it', () => {
    expect(() => addressPolicy(['localhost'], 'the list')).toThrow(
      "'localhost' is not an IP address or CIDR range",
    )
  })
})

describe('ipLiteralOf', () => {
  it('gives the address a host is written as, brackets removed, and nothing for a name', () => {
    expect(ipLiteralOf('10.0.0.1')).toBe('10.0.0.1')
    expect(ipLiteralOf('[::1]')).toBe('::1')
    expect(ipLiteralOf(new URL('http://169.254.169.254/latest').hostname)).toBe('169.254.169.254')
    // The URL parser writes the short and numeric IPv4 forms out: they are literals too.
    expect(ipLiteralOf(new URL('http://127.1/').hostname)).toBe('127.0.0.1')
    expect(ipLiteralOf(new URL('http://2852039166/').hostname)).toBe('169.254.169.254')
    expect(ipLiteralOf('hooks.example.com')).toBeUndefined()
  })
})
