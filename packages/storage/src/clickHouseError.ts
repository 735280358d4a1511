import { ClickHouseError } from '@clickhouse/client'

/**
 * chDB builds its `ClickHouseError` from its own copy of `@clickhouse/client-common`, a different
 * class from the one `@clickhouse/client` exports, so `instanceof ClickHouseError` fails for
 * embedded errors. Rebuilding it with the client's class lets callers classify errors the same
 * way on both transports.
 */
export function asClientError(error: unknown): unknown {
  if (error instanceof ClickHouseError || !(error instanceof Error)) return error
  const { code, type } = error as Error & { code?: unknown; type?: unknown }
  if (typeof code !== 'string' || !/^\d+$/.test(code) || typeof type !== 'string') return error
  const rebuilt = new ClickHouseError({ message: error.message, code, type })
  rebuilt.cause = error
  return rebuilt
}
