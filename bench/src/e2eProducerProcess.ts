import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { logLevel } from 'kafkajs'
import { createAuditProducer } from '@audit-pipeline/producer'
import { e2eEvent, e2eProducerDefaults, type E2eRun } from './e2eEvents.js'

/** What the parent (e2eProducers.ts) asks of one producer process, as its one argument (JSON). */
export type E2eProducerRequest = {
  brokers: string[]
  registryUrl: string
  topic: string
  run: E2eRun
  producer: number
  events: number
  /** Calls awaiting Kafka's acknowledgement at most, as in a busy service. */
  window: number
}

/** Parent → child: `start` producing; `exit` once the parent has read this process's CPU time. */
export type E2eProducerCommand = 'start' | 'exit'

/** Child → parent. */
export type E2eProducerReport =
  | { type: 'ready' }
  | {
      type: 'done'
      acknowledged: number
      /** Ids of the events whose send was rejected, and the first reason. */
      failed: string[]
      firstError?: string
      seconds: number
    }

/**
 * One of the section's producers: a service sending its audit events through the SDK (Avro,
 * acks=all, idempotent, batched), `window` calls in flight. Connects and loads the schema, says
 * `ready`, produces on `start`, reports, and waits for `exit`, so the parent can read its CPU time
 * before it is gone.
 */
async function main(request: E2eProducerRequest): Promise<void> {
  const send = (report: E2eProducerReport) => process.send?.(report)
  const commands: E2eProducerCommand[] = []
  let wake: (() => void) | undefined
  process.on('message', (command: E2eProducerCommand) => {
    commands.push(command)
    wake?.()
  })
  const next = async (expected: E2eProducerCommand) => {
    while (!commands.includes(expected)) await new Promise<void>((resolve) => (wake = resolve))
  }
  // The parent gone (the bench interrupted): nothing left to report to.
  process.on('disconnect', () => process.exit(1))

  const audit = await createAuditProducer({
    // A configuration, not a client: the SDK sends from a thread of its own.
    kafka: {
      clientId: `bench-e2e-producer-${request.producer}`,
      brokers: request.brokers,
      logLevel: logLevel.NOTHING,
    },
    registry: new SchemaRegistry({ host: request.registryUrl }),
    topic: request.topic,
    defaults: e2eProducerDefaults(request.run),
  })
  send({ type: 'ready' })
  await next('start')

  const started = performance.now()
  let acknowledged = 0
  const failed: string[] = []
  let firstError: string | undefined
  let inFlight = 0
  let room: (() => void) | undefined
  for (let index = 0; index < request.events; index++) {
    const plan = e2eEvent(request.run, request.producer, index)
    inFlight++
    void audit
      .updated(plan.object, plan.before, plan.after, plan.context)
      .then(
        () => acknowledged++,
        (error: unknown) => {
          failed.push(plan.context.eventId!)
          firstError ??= error instanceof Error ? error.message : String(error)
        },
      )
      .finally(() => {
        inFlight--
        room?.()
      })
    if (inFlight >= request.window) await new Promise<void>((resolve) => (room = resolve))
  }
  await audit.flush()
  while (inFlight > 0) await new Promise<void>((resolve) => (room = resolve))
  send({
    type: 'done',
    acknowledged,
    failed,
    ...(firstError !== undefined && { firstError }),
    seconds: (performance.now() - started) / 1000,
  })
  await next('exit')
  await audit.close()
  process.exit(0)
}

main(JSON.parse(process.argv[2] ?? '{}') as E2eProducerRequest).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error))
  process.exit(1)
})
