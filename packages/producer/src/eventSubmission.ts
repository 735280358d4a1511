import type { AuditEvent } from '@audit-pipeline/event-model'
import { createOrderedAdmission } from './orderedAdmission.js'
import type { SourceProtection } from './sourceProtection.js'

/** The steps an event goes through before Kafka, given by the producer (tests give their own). */
export type SubmissionSteps<T> = {
  /** Throws (EventInvalidError naming the field, ProducerError CLOSED) for an event not to send. */
  check(event: AuditEvent, jsonTextTrusted: boolean): void
  /** Drops, hashes or seals the sensitive values (sourceProtection.ts). */
  protect: SourceProtection
  /** Throws EventInvalidError for an event that does not encode (over the size limit, say). */
  encode(event: AuditEvent): T
  /** Adds the encoded event to the batch; resolves once Kafka has acknowledged it. */
  add(item: T): Promise<void>
}

export type EventSubmission = {
  /** Resolves with the event as sent (its sensitive values hidden) once Kafka has it. */
  send(event: AuditEvent, jsonTextTrusted: boolean): Promise<AuditEvent>
  /** All or nothing: every event is checked, protected and encoded before any is added. */
  sendAll(events: readonly AuditEvent[]): Promise<AuditEvent[]>
  /** Resolves once every event given so far was added to the batch or failed before it. */
  admitted(): Promise<void>
}

/**
 * Checks each event first and synchronously, so a bad event fails before anything of it is
 * buffered; then hides its sensitive values, which for sealing waits on the key store; then
 * encodes it and adds it to the batch, in the order the events were given (orderedAdmission.ts),
 * however long each one's sealing took.
 */
export function createEventSubmission<T>(steps: SubmissionSteps<T>): EventSubmission {
  const line = createOrderedAdmission()
  /** Places taken in the line and not left: while there are any, every event queues behind them. */
  let queued = 0
  const submit = async (events: readonly AuditEvent[], jsonTextTrusted: boolean): Promise<AuditEvent[]> => {
    for (const event of events) steps.check(event, jsonTextTrusted)
    const protectedEvents = events.map((event) => steps.protect(event))
    if (queued === 0 && !protectedEvents.some((event) => event instanceof Promise)) {
      // Dropped or hashed (no key store to wait for) with nobody ahead: straight into the batch,
      // as fast as before sealing existed.
      const sent = protectedEvents as AuditEvent[]
      const items = sent.map((event) => steps.encode(event))
      const acknowledged: Promise<void>[] = items.map((item) => steps.add(item))
      await Promise.all(acknowledged)
      return sent
    }
    const place = line.enter()
    queued++
    let left = false
    const leave = () => {
      if (left) return
      left = true
      queued--
      place.leave()
    }
    try {
      const sent = await Promise.all(protectedEvents.map((event) => Promise.resolve(event)))
      const items = sent.map((event) => steps.encode(event))
      await place.ready
      const acknowledged = items.map((item) => steps.add(item))
      leave()
      await Promise.all(acknowledged)
      return sent
    } finally {
      leave()
    }
  }
  return {
    send: async (event, jsonTextTrusted) => (await submit([event], jsonTextTrusted))[0] as AuditEvent,
    // Events given here may have been assembled by hand: their JSON text is checked too.
    sendAll: (events) => submit(events, false),
    admitted: () => line.drained(),
  }
}
