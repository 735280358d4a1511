import { ConfigError } from '@audit-pipeline/config'

/**
 * Turns a failed `listen` into an error an operator can act on: the address, and the variable to
 * change. Errors with another cause are returned as they are.
 */
export function listenErrorFor(error: Error, host: string, port: number): Error {
  const { code } = error as NodeJS.ErrnoException
  const address = `${host}:${port}`
  const problem =
    code === 'EADDRINUSE'
      ? {
          setting: 'OPS_PORT',
          message: `${address} is already in use: choose another port, or 0 to let the system pick a free one`,
        }
      : code === 'EACCES'
        ? {
            setting: 'OPS_PORT',
            message: `not allowed to listen on ${address}: ports below 1024 need privileges; choose a higher port`,
          }
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
          ? {
              setting: 'OPS_HOST',
              message: `${host} is not an address of this machine: use 127.0.0.1, 0.0.0.0 or one of its interfaces`,
            }
          : undefined
  if (!problem) return error
  const configError = new ConfigError([problem], 'ops server')
  configError.cause = error
  return configError
}
