import { CodecError } from '@audit-pipeline/codec'
import type { KeyStore } from '@audit-pipeline/field-encryption'
import {
  eventNestingProblem,
  jsonNestingBeyond,
  maxEnvelopeNestingDepth,
  maxJsonNestingDepth,
  reservedNamespaceOf,
  type AuditEvent,
  type EventInvalidError,
  type EventPolicy,
} from '@audit-pipeline/event-model'
import { adaptMessage } from '../adapters/adaptMessage.js'
import type { InputAdapter, SkipReason } from '../adapters/inputAdapter.js'
import type { MessageHeaders } from '../adapters/inputMessage.js'
import { InputRejectedError } from '../adapters/inputRejectedError.js'
import { applyLoggingLevels } from '../levels/applyLoggingLevels.js'
import { defaultLevelsPolicy, levelsOf, type LevelsPolicy } from '../levels/levelsPolicy.js'
import type { EventDraft } from '../normalize/eventDraft.js'
import { normalizeEvent } from '../normalize/normalizeEvent.js'
import { applyRedactionPolicy } from '../redaction/applyRedactionPolicy.js'
import { tenantRedactionOf, type RedactionPolicy } from '../redaction/redactionPolicy.js'
import type { DeadLetterCause } from './deadLetterClasses.js'

/** One message as read from an input topic. */
export type InputRecord = {
  value: Buffer | null
  headers: MessageHeaders
  /** The message's Kafka timestamp, epoch ms: `recorded_at` when the producer left it out. */
  timestampMs: number
}

/** What one input message holds: canonical events, nothing on purpose, or a reason to dead-letter it. */
export type RecordReading =
  | { kind: 'events'; events: AuditEvent[] }
  | { kind: 'skipped'; reason: SkipReason }
  | { kind: 'dead-letter'; cause: DeadLetterCause }

export type RecordReader = {
  /** Decodes Avro (the Confluent wire format) of any registered version into the current form. */
  decodeAvro(value: Buffer): Promise<AuditEvent>
  adapters: readonly InputAdapter[]
  policy: EventPolicy
  /** What each event keeps (levelsPolicy.ts). Default: everything (3/3). */
  levels?: LevelsPolicy
  redaction: RedactionPolicy
  /** The key store of tenants whose policy encrypts (openFieldKeyStore.ts); needed only by those. */
  fieldKeys?: KeyStore
  /** Larger messages are dead-lettered unread. */
  maxEventBytes: number
}

/**
 * Reads one input message into canonical events, reduced to their logging levels (what the
 * levels drop is never hashed or sealed first) and redacted. Avro (magic byte 0) goes to the
 * codec, anything else to the JSON adapters. The result depends only on the message and the
 * settings, never on the clock: `recorded_at`, when missing, is the message's Kafka timestamp, so
 * a message read again after a crash gives exactly the same events.
 *
 * A message is taken whole: if any event in it is refused, the message is dead-lettered and none
 * of its events go out, so a replay after the fix gives each event once.
 *
 * The tenant's sensitive paths are known before any change is computed, so changes computed from
 * snapshots report them whole, and redaction (or encryption) is applied before the events leave:
 * no change path reveals a key under a sensitive path.
 *
 * Throws a retriable CodecError when the registry cannot be reached, and a retriable
 * KeyStoreUnavailableError when the field key store fails: neither is the message's fault, and
 * the caller retries the message rather than dead-lettering it (or passing it on unsealed). Any
 * other error thrown is a bug, and propagates.
 */
export async function readRecord(record: InputRecord, reader: RecordReader): Promise<RecordReading> {
  const { value } = record
  const sensitiveFieldsOf = (tenant: string) => tenantRedactionOf(reader.redaction, tenant).sensitiveFields
  if (value !== null && value.length > reader.maxEventBytes) {
    return deadLetter({
      errorClass: 'EVENT_TOO_LARGE',
      message: `message is ${value.length} bytes, over the ${reader.maxEventBytes}-byte limit (NORMALIZER_MAX_EVENT_BYTES)`,
    })
  }

  // Before any parse or walk: the depth every service accepts, plus the message's own envelope.
  if (value !== null && value[0] !== 0) {
    const tooDeepAt = jsonNestingBeyond(value, maxJsonNestingDepth + maxEnvelopeNestingDepth)
    if (tooDeepAt !== undefined) {
      return deadLetter({
        errorClass: 'EVENT_TOO_DEEP',
        message: `message nests objects and arrays more than ${maxJsonNestingDepth + maxEnvelopeNestingDepth} levels deep (at byte ${tooDeepAt})`,
      })
    }
  }

  let drafts: readonly EventDraft[]
  if (value !== null && value[0] === 0) {
    try {
      drafts = [await reader.decodeAvro(value)]
    } catch (error) {
      if (error instanceof CodecError && !error.retriable) {
        return deadLetter({
          errorClass: error.code === 'SCHEMA_UNKNOWN' ? 'SCHEMA_UNKNOWN' : 'EVENT_UNDECODABLE',
          reason: error.code,
          message: error.message,
        })
      }
      throw error
    }
  } else if (value !== null && value.length > 0 && isControlByte(value[0] ?? 0)) {
    return deadLetter({
      errorClass: 'EVENT_UNDECODABLE',
      reason: 'WRONG_MAGIC_BYTE',
      message: `starts with byte 0x${(value[0] ?? 0).toString(16).padStart(2, '0')}: neither the Confluent Avro magic byte 0 nor JSON text`,
    })
  } else {
    const adapted = adaptMessage({ value, headers: record.headers }, reader.adapters, { sensitiveFieldsOf })
    if (adapted.status === 'skipped') return { kind: 'skipped', reason: adapted.reason }
    if (adapted.status === 'rejected') return refused(adapted.error)
    drafts = adapted.drafts
  }

  const normalizedEvents: AuditEvent[] = []
  for (const [index, draft] of drafts.entries()) {
    // JSON text inside the event (an Avro snapshot, or a JSON string holding JSON) is walked next.
    const tooDeep = eventNestingProblem(draft)
    if (tooDeep !== undefined) {
      const where = drafts.length > 1 ? `event ${index} of the message: ` : ''
      return deadLetter({ errorClass: 'EVENT_TOO_DEEP', message: where + tooDeep })
    }
    const normalized = normalizeEvent(draft, {
      now: record.timestampMs,
      policy: reader.policy,
      sensitiveFieldsOf,
    })
    if (!normalized.ok) return refused(normalized.error, drafts.length > 1 ? index : undefined)
    const reserved = reservedNamespaceOf(normalized.event)
    if (reserved !== undefined) {
      const where = drafts.length > 1 ? `event ${index} of the message: ` : ''
      return deadLetter({
        errorClass: 'RESERVED_NAMESPACE',
        reason: reserved.toUpperCase().replace('-', '_'),
        message: `${where}object type '${normalized.event.object.type}', action '${normalized.event.action.name}' claims the ${reserved} namespace, which only the pipeline's own services write (on their own topics)`,
      })
    }
    normalizedEvents.push(normalized.event)
  }
  // Every event accepted first: a message dead-lettered for one of them never waits on the key store.
  const events: AuditEvent[] = []
  for (const event of normalizedEvents) {
    const levels = levelsOf(reader.levels ?? defaultLevelsPolicy, event)
    const reduced = applyLoggingLevels(event, levels)
    // Informative 1 leaves no change, snapshot or sensitive path: nothing to redact, no path to list.
    events.push(
      levels.informative === 1
        ? reduced
        : await applyRedactionPolicy(reduced, reader.redaction, reader.fieldKeys),
    )
  }
  return { kind: 'events', events }
}

function refused(error: InputRejectedError | EventInvalidError, index?: number): RecordReading {
  const where = index === undefined ? '' : `event ${index} of the message: `
  if (error instanceof InputRejectedError) {
    return deadLetter({ errorClass: 'INPUT_REJECTED', reason: error.reason, message: where + error.message })
  }
  return deadLetter({ errorClass: 'EVENT_INVALID', message: where + error.message })
}

function deadLetter(cause: DeadLetterCause): RecordReading {
  return { kind: 'dead-letter', cause }
}

/** A byte no JSON text starts with (JSON whitespace is tab, newline and carriage return). */
function isControlByte(byte: number): boolean {
  return byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d
}
