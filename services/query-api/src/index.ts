// The query API as a library: the app, a server over an already-open storage (to run beside the
// sink when ClickHouse is embedded: deploy/sink-with-query-api), configuration, access auditing and
// metrics. The process is main.ts.
export { createQueryApi, defaultQueryApiLimits, type QueryApiLimits, type QueryApiOptions } from './app.js'
export { serveQueryApi, type QueryApiServer } from './server.js'
export { loadQueryApiConfig, queryApiOpsPort, type QueryApiConfig } from './config.js'
export { startQueryApi, type RunningQueryApi } from './startQueryApi.js'
export { createQueryApiMetrics, type QueryApiMetrics } from './metrics.js'
export {
  createAccessAudit,
  recordingAccessAudit,
  type AccessAudit,
  type AccessRecord,
  type AccessAuditOptions,
} from './accessAudit.js'
export { parseApiKeys, secretSha256, roles, type ApiKey, type Role } from '@audit-pipeline/api-keys'
export { watchKeyRing, type KeyRing, type KeyRingOptions } from './access/keyRing.js'
export { alertStorage } from './answers/alertAnswer.js'
