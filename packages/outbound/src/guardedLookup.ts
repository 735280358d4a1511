import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { checkAddress, type AddressPolicy } from './addressPolicy.js'
import { AddressRefusedError } from './addressRefusedError.js'

/** What `guardedLookup` resolves with: node:dns `lookup` with `all: true`. */
export type ResolveAll = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void

const resolveWithDns: ResolveAll = (hostname, options, callback) => dnsLookup(hostname, options, callback)

/**
 * A `lookup` for net/tls connect options (undici passes its `connect` options through) that
 * refuses a host when any address it resolves to is outside `policy`. Checked on every connect,
 * not once at start-up, so a DNS answer that changes later (rebinding) is caught too. Refusing
 * the host when any one address is private, rather than picking a public one, keeps the outcome
 * from depending on which address the resolver lists first.
 */
export function guardedLookup(policy: AddressPolicy, resolve: ResolveAll = resolveWithDns): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '', 0)
        return
      }
      const refusal = refusalFor(hostname, addresses, policy)
      if (refusal) {
        callback(refusal, '', 0)
        return
      }
      if ((options as { all?: boolean }).all) {
        ;(callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses)
        return
      }
      const first = addresses[0]
      if (!first) {
        callback(Object.assign(new Error(`${hostname} resolved to no address`), { code: 'ENOTFOUND' }), '', 0)
        return
      }
      callback(null, first.address, first.family)
    })
  }
}

/** The error refusing `hostname`, or undefined when every address it resolved to is allowed. */
export function refusalFor(
  hostname: string,
  addresses: readonly LookupAddress[],
  policy: AddressPolicy,
): AddressRefusedError | undefined {
  for (const { address } of addresses) {
    const verdict = checkAddress(address, policy)
    if (!verdict.allowed) return new AddressRefusedError(hostname, address, verdict.range, policy.listedIn)
  }
  return undefined
}

/**
 * Resolves `hostname` and says whether the policy refuses it, for a check at start-up (a refused
 * host then stops the start, naming what to fix, instead of failing every delivery later).
 * Rejects when the name does not resolve.
 */
export async function checkHost(
  hostname: string,
  policy: AddressPolicy,
  resolve: ResolveAll = resolveWithDns,
): Promise<AddressRefusedError | undefined> {
  const addresses = await new Promise<LookupAddress[]>((done, fail) =>
    resolve(hostname, { all: true }, (error, found) => (error ? fail(error) : done(found))),
  )
  return refusalFor(hostname, addresses, policy)
}
