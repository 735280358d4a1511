import { describe, expect, it } from 'vitest'
import { addressPolicy, checkAddress } from './addressPolicy.js'
import { guardedLookup, refusalFor, type ResolveAll } from './guardedLookup.js'

const none = addressPolicy([])

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

  it('allows what the destination lists, address or range, and nothing next to it', () => {
    const policy = addressPolicy(['127.0.0.1', '10.20.0.0/16'])
    expect(checkAddress('127.0.0.1', policy)).toEqual({ allowed: true })
    expect(checkAddress('127.0.0.2', policy)).toEqual({ allowed: false, range: 'loopback' })
    expect(checkAddress('10.20.9.9', policy)).toEqual({ allowed: true })
    expect(checkAddress('10.21.0.1', policy)).toEqual({ allowed: false, range: 'private' })
  })

  it('refuses an entry that is not an address or range, naming it', () => {
    expect(() => addressPolicy(['localhost'])).toThrow("'localhost' is not an IP address or CIDR range")
  })
})

describe('guardedLookup', () => {
  const resolveTo =
    (...addresses: string[]): ResolveAll =>
    (_, __, callback) =>
      callback(
        null,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      )

  const lookupWith = (resolve: ResolveAll, all: boolean) =>
    new Promise<{ error: unknown; result: unknown }>((done) =>
      guardedLookup(none, resolve)('hooks.example.com', { all }, (error, address, family) =>
        done({ error, result: all ? address : { address, family } }),
      ),
    )

  it('passes public answers through, in both callback forms', async () => {
    expect(await lookupWith(resolveTo('93.184.216.34'), false)).toEqual({
      error: null,
      result: { address: '93.184.216.34', family: 4 },
    })
    expect(await lookupWith(resolveTo('93.184.216.34'), true)).toEqual({
      error: null,
      result: [{ address: '93.184.216.34', family: 4 }],
    })
  })

  it('refuses a host when any address it resolves to is private, with a clear error', async () => {
    const { error } = await lookupWith(resolveTo('93.184.216.34', '10.0.0.5'), true)
    expect(error).toMatchObject({ code: 'DESTINATION_REFUSED', reason: 'PRIVATE_ADDRESS', retriable: false })
    expect((error as Error).message).toBe(
      "refused to connect to hooks.example.com: it resolves to 10.0.0.5, a private address; list it in the destination's allowed_private_addresses if it is meant to be reached",
    )
  })

  it('refusalFor names the first address refused', () => {
    expect(refusalFor('h', [{ address: '127.0.0.1', family: 4 }], none)?.message).toMatch(
      /127\.0\.0\.1, a loopback address/,
    )
    expect(
      refusalFor('h', [{ address: '127.0.0.1', family: 4 }], addressPolicy(['127.0.0.1'])),
    ).toBeUndefined()
  })
})
