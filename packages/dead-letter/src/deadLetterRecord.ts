import type { IHeaders, Message } from 'kafkajs'
import { parseSealedValue, sealedBytesLength } from '@audit-pipeline/field-encryption'
import { sealedKeyIds, sealingKeyId } from './sealingKeyIds.js'
import { DeadLetterFormatError } from './deadLetterFormatError.js'
import {
  deadLetterHeaderNames as names,
  isDeadLetterHeader,
  maxErrorMessageBytes,
} from './deadLetterHeaders.js'
import { truncateUtf8 } from './truncateUtf8.js'

/** Where a message is in Kafka. Offsets are decimal strings, as kafkajs gives them. */
export type DeadLetterLocation = { topic: string; partition: number; offset: string }

/** Why a message was dead-lettered. */
export type DeadLetterError = {
  /** A code from the writing service's closed list: upper case, digits and underscores. */
  errorClass: string
  /** A finer code, in the same form. */
  reason?: string
  /** For people; capped at 4 KiB when written. */
  message: string
  /** Set for EVENT_ID_CONFLICT: the two copies, by digest, so a tool or an alert can name both. */
  conflict?: EventIdConflict
}

/**
 * An event whose (tenant, event_id) was already accepted with other content: the first copy is
 * kept, this one is refused. Digests are lowercase hex SHA-256 (packages/integrity).
 */
export type EventIdConflict = { tenant: string; eventId: string; storedDigest: string; refusedDigest: string }

/** The message that failed, as the consumer received it (a kafkajs message spreads into it). */
export type DeadLetterSource = DeadLetterLocation & {
  /** The original's Kafka timestamp, epoch ms as a decimal string. */
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers?: IHeaders
}

export type DeadLetterInput = {
  source: DeadLetterSource
  error: DeadLetterError
  /** Which service dead-letters it: normalizer, clickhouse-sink, forwarder:siem, … */
  service: string
  /** Injected so tests are deterministic. */
  now: Date
}

/**
 * What a sealed dead letter says of its sealing (sealedDeadLetter.ts): the data key its value is
 * sealed under, and its error message as sealed (the `message` header then holds a fixed text).
 */
export type DeadLetterSealing = { keyId: string; errorMessage?: string }

/** A dead letter read back from its topic. */
export type DeadLetter = DeadLetterError & {
  /** Where the dead letter itself is. */
  dlq: DeadLetterLocation
  source: DeadLetterLocation & { timestamp: string }
  failedAt: Date
  service: string
  /**
   * The original key, value and headers, byte for byte (headers without `audit-dlq-*`); for a
   * sealed dead letter, `value` is the sealed bytes (openDeadLetter gives the original).
   */
  key: Buffer | null
  value: Buffer | null
  originalHeaders: IHeaders
  /** Set when the value is sealed: replaying it needs the key store, and nothing once erased. */
  sealed?: DeadLetterSealing
}

/** What `readDeadLetter` needs of a consumed message (a kafkajs `KafkaMessage` fits). */
export type ConsumedMessage = { key: Buffer | null; value: Buffer | null; headers?: IHeaders }

const codePattern = /^[A-Z][A-Z0-9_]*$/

/**
 * The message to write to the dead-letter topic for `source`: its key and value unchanged, its
 * headers kept (except an earlier dead-lettering's `audit-dlq-*`, which are replaced) plus the
 * headers naming the error and the source. Throws if `errorClass` or `reason` is not a code: those
 * label metrics, and a free-text message there would make their cardinality unbounded.
 */
export function buildDeadLetter({ source, error, service, now }: DeadLetterInput): Message {
  for (const [field, code] of [
    ['errorClass', error.errorClass],
    ['reason', error.reason],
  ] as const) {
    if (code !== undefined && !codePattern.test(code)) {
      throw new Error(
        `dead letter ${field} must be a code such as EVENT_INVALID (upper case, digits, underscores); got '${code}'`,
      )
    }
  }
  if (service === '')
    throw new Error('dead letter service must name the service that writes it; got an empty string')

  const headers: IHeaders = {
    ...withoutDeadLetterHeaders(source.headers ?? {}),
    [names.errorClass]: error.errorClass,
    ...(error.reason !== undefined && { [names.errorReason]: error.reason }),
    [names.errorMessage]: truncateUtf8(error.message, maxErrorMessageBytes),
    [names.sourceTopic]: source.topic,
    [names.sourcePartition]: String(source.partition),
    [names.sourceOffset]: source.offset,
    [names.sourceTimestamp]: source.timestamp,
    [names.failedAt]: now.toISOString(),
    [names.service]: service,
    ...(error.conflict && {
      [names.conflictTenant]: error.conflict.tenant,
      [names.conflictEventId]: error.conflict.eventId,
      [names.storedDigest]: error.conflict.storedDigest,
      [names.refusedDigest]: error.conflict.refusedDigest,
    }),
  }
  // No `timestamp`: the dead letter gets the time it is written. Setting the original's (or an
  // injected test clock's) would let the dead-letter topic's retention delete it early.
  return { key: source.key, value: source.value, headers }
}

/**
 * A message read from a dead-letter topic at `dlq`, as a typed dead letter. Throws
 * DeadLetterFormatError naming every missing, repeated or malformed `audit-dlq-*` header.
 */
export function readDeadLetter(message: ConsumedMessage, dlq: DeadLetterLocation): DeadLetter {
  const headers = message.headers ?? {}
  const problems: string[] = []

  const text = (name: string, required: boolean): string | undefined => {
    const value = headers[name]
    if (value === undefined) {
      if (required) problems.push(`header ${name} is missing`)
      return undefined
    }
    if (Array.isArray(value)) {
      problems.push(`header ${name} appears ${value.length} times`)
      return undefined
    }
    return typeof value === 'string' ? value : value.toString('utf8')
  }
  const checked = (name: string, isValid: (value: string) => boolean, expected: string) => {
    const value = text(name, true)
    if (value === undefined) return undefined
    if (isValid(value)) return value
    problems.push(`header ${name} is not ${expected}: '${value}'`)
    return undefined
  }

  const errorClass = text(names.errorClass, true)
  const reason = text(names.errorReason, false)
  const errorMessage = text(names.errorMessage, true)
  const sourceTopic = text(names.sourceTopic, true)
  const sourcePartition = checked(names.sourcePartition, (v) => /^\d+$/.test(v), 'a partition number')
  const sourceOffset = checked(names.sourceOffset, (v) => /^\d+$/.test(v), 'an offset')
  // -1 is what Kafka reports for a record written without a timestamp.
  const sourceTimestamp = checked(names.sourceTimestamp, (v) => /^-?\d+$/.test(v), 'epoch milliseconds')
  const failedAt = checked(names.failedAt, isIsoTime, 'an ISO-8601 time')
  const service = text(names.service, true)
  const conflict = readConflict((name) => text(name, false), problems)
  const sealed = readSealing((name) => text(name, false), message.value, problems)

  if (
    problems.length > 0 ||
    errorClass === undefined ||
    errorMessage === undefined ||
    sourceTopic === undefined ||
    sourcePartition === undefined ||
    sourceOffset === undefined ||
    sourceTimestamp === undefined ||
    failedAt === undefined ||
    service === undefined
  ) {
    throw new DeadLetterFormatError(dlq, problems)
  }
  return {
    dlq,
    errorClass,
    ...(reason !== undefined && { reason }),
    message: errorMessage,
    ...(conflict && { conflict }),
    ...(sealed && { sealed }),
    source: {
      topic: sourceTopic,
      partition: Number(sourcePartition),
      offset: sourceOffset,
      timestamp: sourceTimestamp,
    },
    failedAt: new Date(failedAt),
    service,
    key: message.key,
    value: message.value,
    originalHeaders: withoutDeadLetterHeaders(headers),
  }
}

/** The conflict headers: all four or none (a partial set is a malformed dead letter). */
function readConflict(
  text: (name: string) => string | undefined,
  problems: string[],
): EventIdConflict | undefined {
  const tenant = text(names.conflictTenant)
  const eventId = text(names.conflictEventId)
  const storedDigest = text(names.storedDigest)
  const refusedDigest = text(names.refusedDigest)
  const present = [tenant, eventId, storedDigest, refusedDigest].filter((v) => v !== undefined).length
  if (present === 0) return undefined
  if (
    tenant === undefined ||
    eventId === undefined ||
    storedDigest === undefined ||
    refusedDigest === undefined
  ) {
    problems.push(
      `headers ${names.conflictTenant}, ${names.conflictEventId}, ${names.storedDigest} and ${names.refusedDigest} come together; ${4 - present} missing`,
    )
    return undefined
  }
  return { tenant, eventId, storedDigest, refusedDigest }
}

/** A key id, as key stores make them (and sealed values name them). */
const keyIdPattern = /^[A-Za-z0-9_-]{1,64}$/

/**
 * The sealing headers: none, or `audit-dlq-sealed` naming the key that the value (and the sealed
 * error message, when there is one) is sealed under, or the keys, comma-separated, of the data
 * subjects of a batch (sealed under a key derived from them all: sealedDeadLetter.ts). A value that is not sealed under the key the
 * header names is a malformed dead letter: never replayed, whatever its bytes.
 */
function readSealing(
  text: (name: string) => string | undefined,
  value: Buffer | null,
  problems: string[],
): DeadLetterSealing | undefined {
  const keyId = text(names.sealed)
  const errorMessage = text(names.sealedErrorMessage)
  if (keyId === undefined) {
    if (errorMessage !== undefined) {
      problems.push(`header ${names.sealedErrorMessage} comes with ${names.sealed}, which is missing`)
    }
    return undefined
  }
  if (!sealedKeyIds({ keyId }).every((id) => keyIdPattern.test(id))) {
    problems.push(`header ${names.sealed} is not a list of key ids: '${keyId}'`)
  }
  // Several keys (a batch of several data subjects' events): sealed under the key derived from them.
  const sealingKey = sealingKeyId(keyId)
  // Sealed bytes do not name their key (the header does): only their length can be checked here,
  // and opening them with the key tells the rest.
  if (value === null || value.length < sealedBytesLength(0)) {
    problems.push(`header ${names.sealed} names key '${keyId}', but the value is too short to be sealed`)
  }
  if (errorMessage !== undefined && parseSealedValue(errorMessage)?.keyId !== sealingKey) {
    problems.push(`header ${names.sealedErrorMessage} is not sealed under key '${sealingKey}'`)
  }
  return { keyId, ...(errorMessage !== undefined && { errorMessage }) }
}

/** `headers` without the reserved `audit-dlq-*` ones: what the original message carried. */
export function withoutDeadLetterHeaders(headers: IHeaders): IHeaders {
  return Object.fromEntries(
    Object.entries(headers).filter(([name, value]) => value !== undefined && !isDeadLetterHeader(name)),
  )
}

function isIsoTime(value: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
    !Number.isNaN(Date.parse(value))
  )
}
