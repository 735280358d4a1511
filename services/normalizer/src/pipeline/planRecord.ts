import type { AuditEvent } from '@audit-pipeline/event-model'
import { EventInvalidError, partitionKeyFor } from '@audit-pipeline/event-model'
import type { SkipReason } from '../adapters/inputAdapter.js'
import { routeEvent } from '../routing/routeEvent.js'
import type { RouteTable } from '../routing/routeTable.js'
import type { DeadLetterCause } from './deadLetterClasses.js'
import type { RecordReading } from './readRecord.js'

/** The header on every normalized event naming the route that sent it. */
export const routeHeader = 'audit-route'

/** One normalized event on its way to one output topic. */
export type PlannedOutput = {
  topic: string
  route: string
  /** partitionKeyFor(event) as UTF-8: kafkajs would convert a string twice (partitioner, record). */
  key: Buffer
  value: Buffer
  /** Shared by every output of the route: do not modify. */
  headers: Readonly<Record<string, Buffer>>
}

const routeHeaders = new Map<string, Readonly<Record<string, Buffer>>>()

/** The header object for a route, made once: kafkajs would otherwise convert the string per record. */
function headersFor(route: string): Readonly<Record<string, Buffer>> {
  let headers = routeHeaders.get(route)
  if (!headers) {
    // Route names come from the routes file: a reload can add some, never unboundedly many.
    if (routeHeaders.size >= 10_000) routeHeaders.clear()
    headers = Object.freeze({ [routeHeader]: Buffer.from(route) })
    routeHeaders.set(route, headers)
  }
  return headers
}

/** Everything one input message turns into, before anything is sent. */
export type RecordPlan =
  | {
      kind: 'outputs'
      outputs: PlannedOutput[]
      /** Ids of the events sent, to remember once Kafka has them. */
      sentEventIds: string[]
      dropped: { route: string; reason: string }[]
      /** Events dropped because their id went out recently. */
      duplicates: number
    }
  | { kind: 'skipped'; reason: SkipReason }
  | { kind: 'dead-letter'; cause: DeadLetterCause }

export type PlanContext = {
  routes: RouteTable
  /** Avro in the Confluent wire format; throws EventInvalidError naming a field the schema refuses. */
  encode(event: AuditEvent): Buffer
  /** Larger normalized events are dead-lettered (snapshots can make changes that outgrow the input). */
  maxEventBytes: number
  /** Whether the id went out recently (the dedup window, or earlier in the batch being built). */
  isDuplicate(eventId: string): boolean
}

/**
 * Routes and encodes the events of one message. Pure apart from `encode`: the same reading and
 * routes give the same outputs, byte for byte, which is what makes a re-read after a crash an
 * exact duplicate. An event that cannot be encoded, or is too large once encoded, dead-letters the
 * whole message, like a refused event does.
 */
export function planRecord(reading: RecordReading, context: PlanContext): RecordPlan {
  if (reading.kind !== 'events') return reading
  const outputs: PlannedOutput[] = []
  const sentEventIds: string[] = []
  const dropped: { route: string; reason: string }[] = []
  let duplicates = 0
  for (const event of reading.events) {
    if (context.isDuplicate(event.event_id) || sentEventIds.includes(event.event_id)) {
      duplicates++
      continue
    }
    const { route, outcome } = routeEvent(context.routes, event)
    if (outcome.kind === 'drop') {
      dropped.push({ route, reason: outcome.reason })
      continue
    }
    let value: Buffer
    try {
      value = context.encode(event)
    } catch (error) {
      if (!(error instanceof EventInvalidError)) throw error
      return deadLetter({
        errorClass: 'EVENT_INVALID',
        message: `normalized event ${event.event_id}: ${error.message}`,
      })
    }
    if (value.length > context.maxEventBytes) {
      return deadLetter({
        errorClass: 'EVENT_TOO_LARGE',
        message: `normalized event ${event.event_id} is ${value.length} bytes in Avro, over the ${context.maxEventBytes}-byte limit (NORMALIZER_MAX_EVENT_BYTES)`,
      })
    }
    const key = Buffer.from(partitionKeyFor(event))
    const headers = headersFor(route)
    for (const topic of outcome.topics) outputs.push({ topic, route, key, value, headers })
    sentEventIds.push(event.event_id)
  }
  return { kind: 'outputs', outputs, sentEventIds, dropped, duplicates }
}

function deadLetter(cause: DeadLetterCause): RecordPlan {
  return { kind: 'dead-letter', cause }
}
