/**
 * What a service process's exit code means, the same for every service (README "Layering", exit
 * codes), so whatever supervises them (npm start, Kubernetes, systemd) can tell a failure that a
 * restart may cure from a configuration only an operator can fix.
 */
export const exitCodes = {
  /** Stopped on SIGTERM or SIGINT after a clean shutdown. */
  stopped: 0,
  /** Could not start, or could not go on (a broker out of reach, a fatal error): restarting may help. */
  failed: 1,
  /**
   * A setting or a config file is invalid: stderr names every problem (the variable, or
   * `file:line:column`). Restarting will not help until the configuration is fixed.
   */
  configInvalid: 2,
} as const

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes]
