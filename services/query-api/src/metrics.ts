import { Counter, Histogram, type Registry } from 'prom-client'

/** Every metric the query API exports, declared on the registry given (a fresh one per test). */
export function createQueryApiMetrics(registry: Registry) {
  const registers = [registry]
  return {
    requests: new Counter({
      name: 'audit_query_api_requests_total',
      help: 'Requests for audit data, by route and status code.',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
    querySeconds: new Histogram({
      name: 'audit_query_api_query_duration_seconds',
      help: 'ClickHouse time per request, by route, seconds.',
      labelNames: ['route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    rowsReturned: new Counter({
      name: 'audit_query_api_rows_returned_total',
      help: 'Rows sent to clients, by route.',
      labelNames: ['route'] as const,
      registers,
    }),
    requestsLimited: new Counter({
      name: 'audit_query_api_requests_limited_total',
      help: 'Requests answered 429, by limit: key_requests (per key) or auth_failures (per address).',
      labelNames: ['limit'] as const,
      registers,
    }),
    accessAuditFailures: new Counter({
      name: 'audit_query_api_access_audit_failures_total',
      help: 'Access records that could not be written; the request was refused with 503.',
      registers,
    }),
  }
}

export type QueryApiMetrics = ReturnType<typeof createQueryApiMetrics>
