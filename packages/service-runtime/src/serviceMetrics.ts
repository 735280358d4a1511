import { collectDefaultMetrics, Registry } from 'prom-client'

export type MetricsRegistryOptions = {
  /** Added as the `service` label to every metric of the registry. */
  service: string
}

/** A fresh registry with Node's process metrics (CPU, memory, event loop lag, GC) and a `service` label. */
export function createMetricsRegistry({ service }: MetricsRegistryOptions): Registry {
  const register = new Registry()
  register.setDefaultLabels({ service })
  collectDefaultMetrics({ register })
  return register
}
