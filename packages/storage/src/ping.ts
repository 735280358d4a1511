import type { ClickHouseClient } from '@clickhouse/client'
import { StorageError } from './storageError.js'

/**
 * Liveness only: HTTP `/ping` checks neither credentials nor the database, and the embedded
 * engine's `SELECT 1` cannot check them either, so both transports answer the same question.
 */
export async function pingStorage(client: ClickHouseClient, where: string): Promise<void> {
  const result = await client.ping({ select: false })
  if (!result.success) {
    throw new StorageError(
      'STORAGE_UNAVAILABLE',
      `ClickHouse at ${where} did not answer a ping: ${result.error.message}`,
      true,
      { cause: result.error },
    )
  }
}
