import type { ClickHouseClient } from '@clickhouse/client'

/** Where a storage writes, safe to log: no credentials. */
export type StorageDescription =
  | { transport: 'http'; url: string; database: string }
  | { transport: 'embedded'; dataPath: string; database: string }

/**
 * ClickHouse, over HTTP or embedded: callers cannot tell which. Queries go through `client`, the
 * `@clickhouse/client` API (`query`/`insert`/`command`/`exec`, `{name:Type}` query parameters),
 * and behave the same on both transports.
 */
export type Storage = {
  readonly client: ClickHouseClient
  describe(): StorageDescription
  /** Resolves when ClickHouse answers; otherwise throws StorageError `STORAGE_UNAVAILABLE`. */
  ping(): Promise<void>
  /** `CREATE DATABASE IF NOT EXISTS`; works even when `name` is the configured, missing database. */
  ensureDatabase(name: string): Promise<void>
  /** Releases the connection (for embedded: the data directory, once the last user closes). Idempotent. */
  close(): Promise<void>
}
