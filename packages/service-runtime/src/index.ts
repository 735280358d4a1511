export { createLogger, logLevels, type LogLevel, type Logger, type LoggerOptions } from './logger.js'
export {
  loadOpsSettings,
  opsEnvShape,
  opsSettingsFrom,
  type OpsDefaults,
  type OpsEnv,
  type OpsSettings,
} from './opsSettings.js'
export {
  startOpsServer,
  type CheckReport,
  type HealthChecks,
  type OpsServer,
  type OpsServerOptions,
} from './opsServer.js'
export {
  handleSignals,
  shutdownSignals,
  type HandledSignal,
  type ShutdownSignal,
  type SignalHandlers,
  type SignalTarget,
} from './signals.js'
export { backoffDelayMs, defaultBackoffPolicy, type BackoffPolicy } from './backoff.js'
export { retryWithBackoff, type RetryOptions } from './retry.js'
export { createMetricsRegistry, type MetricsRegistryOptions } from './serviceMetrics.js'
export { configOrExit, exitAfterStartFailure } from './configOrExit.js'
export { exitCodes, type ExitCode } from './exitCodes.js'
export { serveService, type ServeServiceOptions, type ServiceLifecycle } from './serveService.js'
export { failpointsFrom, FailpointsError, type Failpoints } from './failpoints.js'
