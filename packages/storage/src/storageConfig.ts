/** Where ClickHouse is. Parsing the environment into this is @audit-pipeline/config's job, not ours. */
export type StorageConfig = HttpStorageConfig | EmbeddedStorageConfig

/** A ClickHouse server over HTTP(S); any number of processes can share it. */
export type HttpStorageConfig = {
  kind: 'http'
  /** Server URL, e.g. `http://127.0.0.1:8123`. */
  url: string
  /** Default: `default` (the client's default user). */
  username?: string
  password?: string
  /** Database unqualified table names resolve in. Default: `default`. */
  database?: string
  /** Per-request timeout. Default: the client's 30 000 ms. */
  requestTimeoutMs?: number
}

/**
 * ClickHouse inside this process (chDB). Only one process may open a data directory, and a
 * process can have only one data directory open at a time: use databases, not directories, to
 * keep things apart.
 */
export type EmbeddedStorageConfig = {
  kind: 'embedded'
  /** Data directory; created if missing. Relative paths resolve against the working directory. */
  dataPath: string
  /** Database unqualified table names resolve in. Default: `default`. */
  database?: string
}
