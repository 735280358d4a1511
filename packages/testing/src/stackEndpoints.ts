// Augmenting vitest's types needs vitest resolved as a module first.
import type {} from 'vitest'

/** What the integration run's global setup (test/setup/localStack.ts) hands every test file. */
export type StackEndpoints = {
  kafkaBrokers: string[]
  schemaRegistryUrl: string
  /** Set when tests run against a ClickHouse server; otherwise each test file embeds its own. */
  clickhouseUrl?: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints
    /** The folder of the run's local stack (PIDs, logs), for tests of the stack itself. */
    stackStateDir: string
  }
}
