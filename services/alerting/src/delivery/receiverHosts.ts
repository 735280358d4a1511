import { AuditError } from '@audit-pipeline/errors'
import { checkHost, ipLiteralOf, type ResolveAll } from '@audit-pipeline/outbound'
import type { Receiver } from './receivers.js'

/** Receivers whose host resolves to an address they may not reach: the service does not start. */
export class ReceiversRefusedError extends AuditError<'RECEIVER_REFUSED'> {
  constructor(readonly refusals: readonly string[]) {
    super('RECEIVER_REFUSED', refusals.join('\n'), false)
  }
}

export type ReceiverHostCheck = {
  /** `receiver <name>: refused to connect to <host>: it resolves to <address>, …`, by receiver name. */
  refusals: string[]
  /** Hosts that did not resolve now: DNS may be down for a moment, so only worth a warning. */
  unresolved: { receiver: string; host: string; error: unknown }[]
}

/**
 * Resolves each receiver's host once, at start-up, so a receiver that resolves to an address it
 * is not allowed stops the start with its name and the address, instead of every alert being
 * refused later. (Each connection is checked again: DNS answers change.) Literals were checked
 * when the receivers file was read.
 */
export async function checkReceiverHosts(
  receivers: readonly Receiver[],
  resolve?: ResolveAll,
): Promise<ReceiverHostCheck> {
  const check: ReceiverHostCheck = { refusals: [], unresolved: [] }
  await Promise.all(
    receivers.map(async (receiver) => {
      const host = new URL(receiver.url).hostname
      if (ipLiteralOf(host) !== undefined) return
      try {
        const refusal = await checkHost(host, receiver.outbound, resolve)
        if (refusal) check.refusals.push(`receiver ${receiver.name}: ${refusal.message}`)
      } catch (error) {
        check.unresolved.push({ receiver: receiver.name, host, error })
      }
    }),
  )
  check.refusals.sort()
  return check
}
