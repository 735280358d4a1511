import { randomUUID } from 'node:crypto'
import avro from 'avsc'
import { assertEventAcceptable, redactEvent, type AuditEvent } from '@audit-pipeline/event-model'
import { createEventBuilder } from '@audit-pipeline/producer'
import { auditEventContract, currentSchema } from '@audit-pipeline/schemas'
import { ticketBefore } from './producerThroughput.js'

export type StageCost = { stage: string; microsPerEvent: number }

/**
 * CPU time per event of each step the SDK takes before Kafka, measured on this thread without
 * I/O: where the time goes when the producer is slower than Kafka.
 */
export function stageCosts(events: number): StageCost[] {
  const build = createEventBuilder(
    { tenant: 'bench', source: { service: 'bench' }, category: 'business', snapshots: true },
    { now: Date.now, newEventId: randomUUID },
  )
  const buildWithoutSnapshots = createEventBuilder(
    { tenant: 'bench', source: { service: 'bench' }, category: 'business', snapshots: false },
    { now: Date.now, newEventId: randomUUID },
  )
  const before = ticketBefore
  const context = { actor: { id: 'u-1', roles: ['agent'] }, correlation: { request_id: 'req-1' } }
  const type = avro.Type.forSchema(currentSchema(auditEventContract) as avro.Schema)
  const built: AuditEvent[] = []
  const time = (stage: string, run: (i: number) => unknown): StageCost => {
    const started = process.hrtime.bigint()
    for (let i = 0; i < events; i++) run(i)
    return { stage, microsPerEvent: Number(process.hrtime.bigint() - started) / 1e3 / events }
  }
  const now = Date.now()
  return [
    time('build: diff + before/after snapshots', (i) =>
      built.push(
        build.updated({ type: 'ticket', id: `T-${i}` }, before, { ...before, note: `step ${i}` }, context)!,
      ),
    ),
    time('build without snapshots (diff only)', (i) =>
      buildWithoutSnapshots.updated(
        { type: 'ticket', id: `T-${i}` },
        before,
        { ...before, note: `step ${i}` },
        context,
      ),
    ),
    time('validate (trusted JSON text)', (i) =>
      assertEventAcceptable(built[i]!, now, undefined, { jsonTextTrusted: true }),
    ),
    time('validate (re-parse JSON text)', (i) => assertEventAcceptable(built[i]!, now)),
    time('redact (no sensitive fields)', (i) => redactEvent(built[i]!, { mode: 'drop' })),
    time('encode: Avro (avsc)', (i) => type.toBuffer(built[i]!)),
    time('encode: JSON.stringify', (i) => Buffer.from(JSON.stringify(built[i]!))),
  ]
}
