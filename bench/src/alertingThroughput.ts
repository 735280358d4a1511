import type { AuditEventCodec } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { createAlertEngine, parseRules } from '@audit-pipeline/alerting'
import { alertingBenchEvent, alertingBenchRules } from './alertingEvents.js'

/** Events per second of wall-clock time, and per second of this process's CPU time. */
export type Rate = { wall: number; cpu: number }

export type ThroughputFigures = {
  events: number
  rules: number
  decodeOnly: Rate
  engine: Rate
  decodeAndEngine: Rate
  alerts: number
  stateEntries: number
}

/**
 * The rule engine on its own, in process: Avro decoding alone (the baseline every consumer pays),
 * the engine with `rules` rules on decoded events, and both, over the same events.
 */
export async function alertingThroughput(options: {
  codec: AuditEventCodec
  events: number
  rules: number
}): Promise<ThroughputFigures> {
  const { codec } = options
  const start = Date.parse('2026-03-02T09:00:00Z')
  // 500 events per second of event time: windows fill and slide as in production.
  const events: AuditEvent[] = Array.from({ length: options.events }, (_, i) =>
    alertingBenchEvent(i, start + i * 2),
  )
  const encoded = events.map((event) => codec.encode(event))
  const ruleSet = parseRules(alertingBenchRules(options.rules), 'bench-rules.yaml')
  const newEngine = () =>
    createAlertEngine({
      rules: ruleSet,
      allowedLatenessMs: 60_000,
      maxGroupsPerRule: 100_000,
      maxEntities: 100_000,
      checkIntervalMs: 1_000,
    })
  // CPU time as well as wall time: on a shared machine the wall clock also counts other processes' turns.
  const timed = async (run: () => Promise<void> | void): Promise<Rate> => {
    const started = performance.now()
    const cpuBefore = process.cpuUsage()
    await run()
    const cpu = process.cpuUsage(cpuBefore)
    const wallSeconds = (performance.now() - started) / 1000
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    return { wall: Math.round(options.events / wallSeconds), cpu: Math.round(options.events / cpuSeconds) }
  }

  // Warm up the JIT and the codec's reader cache.
  const warm = newEngine()
  for (const message of encoded.slice(0, 20_000)) warm.evaluate(await codec.decode(message))

  const decodeOnly = await timed(async () => {
    for (const message of encoded) await codec.decode(message)
  })
  let alerts = 0
  const engine = newEngine()
  const engineRate = await timed(() => {
    for (const event of events) alerts += engine.evaluate(event).length
  })
  const both = newEngine()
  const decodeAndEngine = await timed(async () => {
    for (const message of encoded) both.evaluate(await codec.decode(message))
  })
  return {
    events: options.events,
    rules: ruleSet.rules.length,
    decodeOnly,
    engine: engineRate,
    decodeAndEngine,
    alerts,
    stateEntries: engine.stateSizes().reduce((sum, store) => sum + store.entries, 0),
  }
}
