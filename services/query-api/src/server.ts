import type { AddressInfo } from 'node:net'
import { createQueryApi, type QueryApiOptions } from './app.js'

export type QueryApiServer = {
  /** e.g. http://127.0.0.1:8480 */
  url: string
  port: number
  /** Stops accepting requests, lets those in flight finish, closes. Leaves the storage open. */
  close(): Promise<void>
}

/**
 * The query API listening on `host:port` over an already-open storage. This is what runs the API
 * beside the sink in one process when ClickHouse is embedded (one process per data folder): open
 * the storage once, give it to both, and close it after both have stopped.
 */
export async function serveQueryApi(
  options: QueryApiOptions & { host: string; port: number },
): Promise<QueryApiServer> {
  const { host, port, ...apiOptions } = options
  const app = await createQueryApi(apiOptions)
  await app.listen({ host, port })
  const address = app.server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    close: () => (closing ??= app.close()),
  }
}
