import { createServer, connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { addressPolicy } from './addressPolicy.js'
import { AddressRefusedError, findAddressRefusal } from './addressRefusedError.js'
import { checkHost, guardedLookup, refusalFor, type ResolveAll } from './guardedLookup.js'

const none = addressPolicy([], "the destination's allowed_private_addresses")

const resolveTo =
  (...addresses: string[]): ResolveAll =>
  (_, __, callback) =>
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    )

describe('guardedLookup', () => {
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
    expect(error).toBeInstanceOf(AddressRefusedError)
    expect(error).toMatchObject({
      code: 'ADDRESS_REFUSED',
      retriable: false,
      hostname: 'hooks.example.com',
      address: '10.0.0.5',
      range: 'private',
    })
    expect((error as Error).message).toBe(
      "refused to connect to hooks.example.com: it resolves to 10.0.0.5, a private address; list it in the destination's allowed_private_addresses if it is meant to be reached",
    )
  })

  it('is what decides on a real connect: refused before any byte is sent, allowed once listed', async () => {
    const accepted: Socket[] = []
    const server = createServer((socket) => {
      accepted.push(socket)
      socket.end()
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    onTestFinished(() => new Promise<void>((done) => server.close(() => done())))
    const port = (server.address() as AddressInfo).port
    const open = (lookup: ReturnType<typeof guardedLookup>) =>
      new Promise<Error | undefined>((done) => {
        const socket = connect({ host: 'receiver.test', port, lookup })
        socket.once('connect', () => {
          socket.end()
          done(undefined)
        })
        socket.once('error', done)
      })

    // The metadata address next to the loopback one: the whole host is refused.
    const refused = await open(
      guardedLookup(addressPolicy(['127.0.0.1'], 'the list'), resolveTo('127.0.0.1', '169.254.169.254')),
    )
    expect(findAddressRefusal(refused)?.address).toBe('169.254.169.254')
    expect(await open(guardedLookup(none, resolveTo('127.0.0.1')))).toBeInstanceOf(AddressRefusedError)
    expect(accepted).toHaveLength(0)

    expect(
      await open(guardedLookup(addressPolicy(['127.0.0.1'], 'the list'), resolveTo('127.0.0.1'))),
    ).toBeUndefined()
    expect(accepted).toHaveLength(1)
  })
})

describe('refusalFor and checkHost', () => {
  it('name the first address refused, and nothing when every one is allowed', async () => {
    expect(refusalFor('h', [{ address: '127.0.0.1', family: 4 }], none)?.message).toMatch(
      /127\.0\.0\.1, a loopback address/,
    )
    expect(
      refusalFor('h', [{ address: '127.0.0.1', family: 4 }], addressPolicy(['127.0.0.1'], 'the list')),
    ).toBeUndefined()
    expect((await checkHost('h', none, resolveTo('10.0.0.1')))?.address).toBe('10.0.0.1')
    expect(await checkHost('h', none, resolveTo('93.184.216.34'))).toBeUndefined()
  })

  it('checkHost rejects when the name does not resolve', async () => {
    const fails: ResolveAll = (_, __, callback) =>
      callback(Object.assign(new Error('getaddrinfo ENOTFOUND h'), { code: 'ENOTFOUND' }), [])
    await expect(checkHost('h', none, fails)).rejects.toThrow(/ENOTFOUND/)
  })

  it('findAddressRefusal finds the refusal inside wrapping errors', () => {
    const refusal = new AddressRefusedError('h', '10.0.0.1', 'private', 'the list')
    expect(findAddressRefusal(new Error('connect failed', { cause: refusal }))).toBe(refusal)
    expect(findAddressRefusal(new Error('ECONNREFUSED'))).toBeUndefined()
  })
})
