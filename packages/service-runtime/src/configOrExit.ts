import { ConfigError } from '@audit-pipeline/config'

/**
 * A service's configuration, or exit code 2 with the problems on stderr, one line naming every
 * bad setting (`audit-sink: SINK_BATCH_MAX_ROWS: expected …`). Other errors are thrown as they are.
 */
export function configOrExit<T>(program: string, load: () => T): T {
  try {
    return load()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${program}: ${error.message}\n`)
    process.exit(2)
  }
}
