import { Counter } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createMetricsRegistry } from './serviceMetrics.js'

describe('createMetricsRegistry', () => {
  it('collects Node process metrics labelled with the service', async () => {
    const registry = createMetricsRegistry({ service: 'normalizer' })
    const text = await registry.metrics()
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="normalizer"\} /m)
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="normalizer"\} /m)
  })

  it("labels the service's own metrics too, in registries independent of each other", async () => {
    const sink = createMetricsRegistry({ service: 'clickhouse-sink' })
    const other = createMetricsRegistry({ service: 'forwarder' })
    new Counter({ name: 'audit_sink_rows_inserted_total', help: 'rows', registers: [sink] }).inc(3)
    expect(await sink.metrics()).toContain('audit_sink_rows_inserted_total{service="clickhouse-sink"} 3')
    expect(await other.metrics()).not.toContain('audit_sink_rows_inserted_total')
  })
})
