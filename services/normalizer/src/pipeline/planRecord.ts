import type { AuditEvent } from '@audit-pipeline/event-model'
import { temporalLevelHeader } from '@audit-pipeline/config'
import { EventInvalidError, partitionKeyFor } from '@audit-pipeline/event-model'
import { eventKeyOf, type EventKey } from '../delivery/dedupWindow.js'
import type { SkipReason } from '../adapters/inputAdapter.js'
import {
  defaultLevelsPolicy,
  isReduced,
  levelsOf,
  type LevelsPolicy,
  type LoggingLevels,
} from '../levels/levelsPolicy.js'
import { routeEvent } from '../routing/routeEvent.js'
import type { RouteTable } from '../routing/routeTable.js'
import type { DeadLetterCause } from './deadLetterClasses.js'
import type { RecordReading } from './readRecord.js'

/** The header on every normalized event naming the route that sent it. */
export const routeHeader = 'audit-route'

// A contract with the sink: the normalizer sets it, the sink routes by it (packages/config).
export { temporalLevelHeader }

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
const latestOnlyHeaders = new Map<string, Readonly<Record<string, Buffer>>>()
const temporalLevelOne = Buffer.from('1')

/**
 * The header object for a route, and for a route's events at temporal level 1, made once: kafkajs
 * would otherwise convert the strings per record.
 */
function headersFor(route: string, latestOnly: boolean): Readonly<Record<string, Buffer>> {
  const cache = latestOnly ? latestOnlyHeaders : routeHeaders
  let headers = cache.get(route)
  if (!headers) {
    // Route names come from the routes file: a reload can add some, never unboundedly many.
    if (cache.size >= 10_000) cache.clear()
    headers = Object.freeze({
      [routeHeader]: Buffer.from(route),
      ...(latestOnly && { [temporalLevelHeader]: temporalLevelOne }),
    })
    cache.set(route, headers)
  }
  return headers
}

/**
 * An event taken to go out: its key and its encoded form, whose content digest the dedup window
 * remembers once Kafka has it (computed meanwhile, off the reading thread: digests/contentDigests.ts).
 */
export type SentEvent = { key: EventKey; value: Buffer }

/** Everything one input message turns into, before anything is sent. */
export type RecordPlan =
  | {
      kind: 'outputs'
      outputs: PlannedOutput[]
      /** The events sent, to remember once Kafka has them. */
      sent: SentEvent[]
      dropped: { route: string; reason: string }[]
      /** Events dropped because their id went out recently. */
      duplicates: number
      /** The levels of each event sent that keeps less than everything (not 3/3), for the metrics. */
      reduced: LoggingLevels[]
    }
  | { kind: 'skipped'; reason: SkipReason }
  | { kind: 'dead-letter'; cause: DeadLetterCause }

export type PlanContext = {
  routes: RouteTable
  /** Avro in the Confluent wire format; throws EventInvalidError naming a field the schema refuses. */
  encode(event: AuditEvent): Buffer
  /**
   * The content digest of an encoded event: what tells a repeat of an id that is a replay (the
   * same) from a conflict (other content). Asked only of repeats, and of what they repeat.
   */
  digest(value: Buffer): string
  /** Larger normalized events are dead-lettered (snapshots can make changes that outgrow the input). */
  maxEventBytes: number
  /**
   * The content digest an event with this key went out with recently (the dedup window, or a
   * flush not yet acknowledged), if any.
   */
  digestSent(key: EventKey): string | undefined
  /**
   * The levels policy the reader reduced the events with (readRecord.ts), for the temporal-level
   * header. Default: everything kept, no header.
   */
  levels?: LevelsPolicy
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
  const sent: SentEvent[] = []
  const dropped: { route: string; reason: string }[] = []
  const reduced: LoggingLevels[] = []
  let duplicates = 0
  for (const event of reading.events) {
    const key = eventKeyOf(event.tenant, event.event_id)
    const earlierInMessage = sent.find((other) => other.key === key)
    const earlier =
      context.digestSent(key) ??
      (earlierInMessage === undefined ? undefined : context.digest(earlierInMessage.value))
    if (earlier !== undefined) {
      // A repeat: judged by content, the copy's digest from its encoded form like the original's.
      const copy = encoded(event, context)
      if ('refused' in copy) return copy.refused
      const digest = context.digest(copy.value)
      if (earlier === digest) {
        duplicates++
        continue
      }
      // Never over the original: the message is refused whole, like any refused event, so the
      // other events in it are not half taken.
      return deadLetter({
        errorClass: 'EVENT_ID_CONFLICT',
        message: `event ${event.event_id} of tenant '${event.tenant}' went out with content digest ${earlier}; this copy has ${digest}. The first copy is kept; an event id names one event, and a change to it is a new event with a new id`,
        conflict: {
          tenant: event.tenant,
          eventId: event.event_id,
          storedDigest: earlier,
          refusedDigest: digest,
        },
      })
    }
    const { route, outcome } = routeEvent(context.routes, event)
    if (outcome.kind === 'drop') {
      dropped.push({ route, reason: outcome.reason })
      continue
    }
    const encoding = encoded(event, context)
    if ('refused' in encoding) return encoding.refused
    const { value } = encoding
    if (value.length > context.maxEventBytes) {
      return deadLetter({
        errorClass: 'EVENT_TOO_LARGE',
        message: `normalized event ${event.event_id} is ${value.length} bytes in Avro, over the ${context.maxEventBytes}-byte limit (NORMALIZER_MAX_EVENT_BYTES)`,
      })
    }
    // The rule readRecord applied: levelsOf reads only fields neither the levels nor redaction change.
    const levels = levelsOf(context.levels ?? defaultLevelsPolicy, event)
    const partitionKey = Buffer.from(partitionKeyFor(event))
    const headers = headersFor(route, levels.temporal === 1)
    for (const topic of outcome.topics) outputs.push({ topic, route, key: partitionKey, value, headers })
    sent.push({ key, value })
    if (isReduced(levels)) reduced.push(levels)
  }
  return { kind: 'outputs', outputs, sent, dropped, duplicates, reduced }
}

/** The event encoded, or the dead letter of an event the schema refuses. */
function encoded(event: AuditEvent, context: PlanContext): { value: Buffer } | { refused: RecordPlan } {
  try {
    return { value: context.encode(event) }
  } catch (error) {
    if (!(error instanceof EventInvalidError)) throw error
    return {
      refused: deadLetter({
        errorClass: 'EVENT_INVALID',
        message: `normalized event ${event.event_id}: ${error.message}`,
      }),
    }
  }
}

function deadLetter(cause: DeadLetterCause): RecordPlan {
  return { kind: 'dead-letter', cause }
}
