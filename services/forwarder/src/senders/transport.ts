/**
 * Hands one formatted batch to a destination; throws DeliveryError (or a network error) when it did not take it.
 * The body is bytes: encoded once, then signed and sent as they are.
 */
export type Transport = {
  send(batch: { id: string; body: Buffer; eventIds: readonly string[] }, signal: AbortSignal): Promise<void>
  close(): Promise<void>
}
