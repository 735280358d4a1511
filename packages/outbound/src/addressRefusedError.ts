import { AuditError } from '@audit-pipeline/errors'

/**
 * A connection refused before it was opened: `hostname` resolves to `address`, in a `range`
 * (private, loopback, linkLocal, …) the policy does not allow. Never retriable: the same answer
 * would be refused again, and a DNS answer that later changes is checked on the next connect.
 */
export class AddressRefusedError extends AuditError<'ADDRESS_REFUSED'> {
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly range: string,
    listedIn: string,
  ) {
    super(
      'ADDRESS_REFUSED',
      `refused to connect to ${hostname}: it resolves to ${address}, a ${range} address; list it in ${listedIn} if it is meant to be reached`,
      false,
    )
  }
}

/**
 * The AddressRefusedError in `error`'s cause chain: HTTP clients (undici) hand back what a
 * connect `lookup` failed with wrapped in errors of their own, a few levels deep at most.
 */
export function findAddressRefusal(error: unknown): AddressRefusedError | undefined {
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof AddressRefusedError) return current
    current = current instanceof Error ? current.cause : undefined
  }
  return undefined
}
