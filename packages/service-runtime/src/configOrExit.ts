import { isConfigInvalid } from '@audit-pipeline/config'
import { exitCodes } from './exitCodes.js'
import type { Logger } from './logger.js'

/**
 * A service's configuration, or exit code 2 (`exitCodes.configInvalid`) with the problems on
 * stderr: every bad setting (`audit-sink: SINK_BATCH_MAX_ROWS: expected …`) or every problem in a
 * config file (`routes.yaml:4:11: routes[0].topic: …`). Other errors are thrown as they are.
 */
export function configOrExit<T>(program: string, load: () => T): T {
  try {
    return load()
  } catch (error) {
    if (!isConfigInvalid(error)) throw error
    process.stderr.write(`${program}: ${error.message}\n`)
    process.exit(exitCodes.configInvalid)
  }
}

/**
 * Ends a process whose start failed: an invalid configuration (a config file read while the
 * service is built, say) exits 2 with its problems on stderr, anything else exits 1; both are
 * logged as fatal.
 */
export function exitAfterStartFailure(
  program: string,
  log: Logger,
  error: unknown,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  if (isConfigInvalid(error)) {
    log.fatal({ err: error }, 'invalid configuration')
    process.stderr.write(`${program}: ${error.message}\n`)
    exit(exitCodes.configInvalid)
    return
  }
  log.fatal({ err: error }, 'could not start')
  exit(exitCodes.failed)
}
