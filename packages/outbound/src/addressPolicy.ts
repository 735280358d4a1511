import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

/**
 * Which addresses an outbound call (a forwarder destination, an alert receiver) may connect to.
 * Public unicast addresses always; private, loopback, link-local, shared (CGNAT), multicast,
 * reserved and the like only when they fall in one of `allowed`, the addresses and CIDRs the
 * operator wrote beside the URL. Refusing the rest keeps a URL from configuration (or a DNS answer
 * that changes under it) from reaching the cluster's own services or a cloud metadata endpoint.
 */
export type AddressPolicy = {
  readonly allowed: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[]
  /**
   * Where the operator lists an address to allow it, named in every refusal so the message says
   * what to change: "the destination's allowed_private_addresses".
   */
  readonly listedIn: string
}

/**
 * Parses `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`; throws naming the first entry that is
 * neither an address nor a range (callers that report every bad entry call it once per entry).
 */
export function addressPolicy(allowed: readonly string[], listedIn: string): AddressPolicy {
  return {
    allowed: allowed.map((entry) => {
      try {
        return entry.includes('/')
          ? ipaddr.parseCIDR(entry)
          : ([ipaddr.parse(entry), fullPrefix(entry)] as const)
      } catch {
        throw new Error(`'${entry}' is not an IP address or CIDR range (e.g. 127.0.0.1 or 10.0.0.0/8)`)
      }
    }),
    listedIn,
  }
}

export type AddressVerdict = { allowed: true } | { allowed: false; range: string }

/** Whether `address` (an IP literal) may be connected to under `policy`, and if not, what it is. */
export function checkAddress(address: string, policy: AddressPolicy): AddressVerdict {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  try {
    parsed = ipaddr.parse(address)
  } catch {
    return { allowed: false, range: 'not an IP address' }
  }
  // ::ffff:10.0.0.1 reaches 10.0.0.1: judge the IPv4 address it stands for.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address()
  }
  const range = parsed.range()
  if (range === 'unicast') return { allowed: true }
  const listed = policy.allowed.some(
    ([network, bits]) => network.kind() === parsed.kind() && parsed.match([network, bits] as never),
  )
  return listed ? { allowed: true } : { allowed: false, range }
}

/**
 * The IP address a URL's or a config's host is written as (`[::1]` → `::1`), or undefined for a
 * name. A literal must be checked when the configuration is read: Node connects to it without a
 * lookup, so the connect-time guard (guardedLookup) never sees it.
 */
export function ipLiteralOf(host: string): string | undefined {
  const literal = host.replace(/^\[|\]$/g, '')
  return isIP(literal) === 0 ? undefined : literal
}

function fullPrefix(address: string): number {
  return ipaddr.parse(address).kind() === 'ipv4' ? 32 : 128
}
