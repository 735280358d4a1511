import ipaddr from 'ipaddr.js'

/**
 * Which addresses a destination may connect to. Public unicast addresses always; private,
 * loopback, link-local, shared (CGNAT), multicast, reserved and the like only when they fall in
 * one of `allowed` (CIDRs written in the destination's `allowed_private_addresses`). Refusing them
 * keeps a destination URL (or a DNS answer that changes under it) from reaching the cluster's own
 * services or a cloud metadata endpoint.
 */
export type AddressPolicy = { readonly allowed: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[] }

/** Parses `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`; throws naming the entry that is neither. */
export function addressPolicy(allowed: readonly string[]): AddressPolicy {
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

function fullPrefix(address: string): number {
  return ipaddr.parse(address).kind() === 'ipv4' ? 32 : 128
}
