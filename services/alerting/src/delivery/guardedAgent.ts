import { Agent } from 'undici'
import { guardedLookup, type AddressPolicy, type ResolveAll } from '@audit-pipeline/outbound'

/**
 * The connections one receiver's webhooks go through: each connect resolves the host and is
 * refused when any address is outside the receiver's policy (guardedLookup), on every connect
 * rather than once, so a DNS answer that changes after start-up (rebinding) is caught too.
 * Redirects are not followed (undici's `request` does not), so a 3xx cannot lead elsewhere.
 */
export function guardedAgent(
  policy: AddressPolicy,
  options: { connectTimeoutMs: number; resolve?: ResolveAll | undefined },
): Agent {
  return new Agent({
    connect: { timeout: options.connectTimeoutMs, lookup: guardedLookup(policy, options.resolve) },
  })
}
