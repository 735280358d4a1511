import { TextDecoder } from 'node:util'
import type { EventDraft } from '../normalize/eventDraft.js'
import { eventIdNamespaces, uuidPattern, uuidV5 } from './deterministicEventId.js'
import { readEventJson } from './eventJsonReader.js'
import { rejected, type AdapterOutcome, type InputAdapter } from './inputAdapter.js'
import { headerValue, isJsonMediaType, mediaType, type MessageHeaders } from './inputMessage.js'
import { InputRejectedError, rejectionsOf } from './inputRejectedError.js'
import { describeJson, isJsonObject, isText, type JsonObject } from './jsonObject.js'

/**
 * CloudEvents 1.0 over Kafka (the spec's Kafka protocol binding) whose data is an audit record in
 * the documented JSON form, possibly without the fields the envelope already carries:
 *
 * | CloudEvents | audit event | when |
 * | --- | --- | --- |
 * | `id` | `event_id` | data has none: the id itself when it is a UUID, else a UUID v5 of `source` and `id` (the spec makes that pair unique, so a resent event keeps its id) |
 * | `time` | `occurred_at` | data has none; one of the two is required |
 * | `source` | `source.service`, verbatim | data has no `source` |
 * | `type` | `attributes["cloudevents.type"]` | data's attributes lack that key |
 * | `traceparent` (distributed tracing extension) | `correlation.trace_id` | data has no trace id |
 * | `datacontenttype` | - | must be JSON when present |
 *
 * What the record says wins over the envelope. Three modes:
 * - structured: `content-type: application/cloudevents+json`, or a body with `specversion`;
 * - binary: `ce_*` headers hold the attributes, the value is the record, `content-type` is
 *   `datacontenttype`;
 * - batch: `content-type: application/cloudevents-batch+json`, an array of structured events; one
 *   bad event refuses the whole message (it is dead-lettered whole, so nothing is lost).
 * `data_base64` holding JSON is accepted in place of `data`.
 */
export const cloudEventsStructuredType = 'application/cloudevents+json'
export const cloudEventsBatchType = 'application/cloudevents-batch+json'

const adapterName = 'cloudevents'
const invalid = rejectionsOf(adapterName)

export const cloudEventsAdapter: InputAdapter = {
  name: adapterName,
  shape: 'an object with specversion',
  declaredBy(headers) {
    const type = contentTypeOf(headers)
    return (
      type === cloudEventsStructuredType ||
      type === cloudEventsBatchType ||
      headerValue(headers, 'ce_specversion') !== undefined
    )
  },
  recognizes: (body) => isJsonObject(body) && typeof body['specversion'] === 'string',
  toEvents({ body, headers }) {
    const type = contentTypeOf(headers)
    if (type === cloudEventsBatchType) return batchEvents(body)
    if (type !== cloudEventsStructuredType && headerValue(headers, 'ce_specversion') !== undefined) {
      return outcomeOf(binaryCloudEvent(headers, body))
    }
    if (!isJsonObject(body)) {
      return rejected(
        invalid(
          'ENVELOPE_INVALID',
          '(value)',
          `expected a CloudEvent, a JSON object; got ${describeJson(body)}`,
        ),
      )
    }
    return outcomeOf(structuredCloudEvent(body, ''))
  },
}

/** The attributes the mapping uses, checked, and the audit record. */
type CloudEvent = {
  id: string
  source: string
  type: string
  /** `time` in UTC epoch milliseconds. */
  timeMs: number | undefined
  traceId: string | undefined
  record: JsonObject
  /** Where the record sits, put before its problems' fields: `data.`, `[2].data.`, or nothing in binary mode. */
  recordPrefix: string
  /** How to name an attribute in an error: `time`, `[2].time`, `header ce_time`. */
  attributeField: (name: string) => string
}

type Attributes = { value: (name: string) => unknown; field: (name: string) => string }

function structuredCloudEvent(body: JsonObject, prefix: string): CloudEvent | InputRejectedError {
  const attributes: Attributes = { value: (name) => body[name], field: (name) => `${prefix}${name}` }
  const data = structuredData(body, prefix)
  if (data instanceof InputRejectedError) return data
  return cloudEvent(attributes, data, `${prefix}data`, `${prefix}data.`)
}

function binaryCloudEvent(headers: MessageHeaders, body: unknown): CloudEvent | InputRejectedError {
  const attributes: Attributes = {
    // The binding carries datacontenttype as the message's content-type, every other attribute as ce_<name>.
    value: (name) => headerValue(headers, name === 'datacontenttype' ? 'content-type' : `ce_${name}`),
    field: (name) => (name === 'datacontenttype' ? 'header content-type' : `header ce_${name}`),
  }
  return cloudEvent(attributes, body, '(value)', '')
}

function cloudEvent(
  attributes: Attributes,
  data: unknown,
  dataField: string,
  recordPrefix: string,
): CloudEvent | InputRejectedError {
  const specversion = attributes.value('specversion')
  if (!isText(specversion)) return required(attributes, 'specversion', specversion)
  if (specversion !== '1.0') {
    return invalid(
      'UNSUPPORTED_SPEC_VERSION',
      attributes.field('specversion'),
      `CloudEvents ${specversion} is not supported; expected 1.0`,
    )
  }
  const id = attributes.value('id')
  if (!isText(id)) return required(attributes, 'id', id)
  const source = attributes.value('source')
  if (!isText(source)) return required(attributes, 'source', source)
  const type = attributes.value('type')
  if (!isText(type)) return required(attributes, 'type', type)

  const time = attributes.value('time')
  let timeMs: number | undefined
  if (time !== undefined) {
    timeMs = typeof time === 'string' ? rfc3339Ms(time) : undefined
    if (timeMs === undefined) {
      return invalid(
        'ENVELOPE_INVALID',
        attributes.field('time'),
        'expected an RFC 3339 time with a zone, e.g. 2024-03-15T11:17:00Z',
      )
    }
  }
  const contentType = attributes.value('datacontenttype')
  if (
    contentType !== undefined &&
    !(typeof contentType === 'string' && isJsonMediaType(mediaType(contentType)))
  ) {
    return invalid(
      'UNSUPPORTED_CONTENT_TYPE',
      attributes.field('datacontenttype'),
      'the data must be JSON (application/json or a +json type): it holds the audit record',
    )
  }
  if (!isJsonObject(data)) {
    return invalid(
      'ENVELOPE_INVALID',
      dataField,
      `expected the audit record, a JSON object; got ${describeJson(data)}`,
    )
  }
  const traceparent = attributes.value('traceparent')
  return {
    id,
    source,
    type,
    timeMs,
    traceId: typeof traceparent === 'string' ? traceIdOf(traceparent) : undefined,
    record: data,
    recordPrefix,
    attributeField: attributes.field,
  }
}

/** `data`, or the JSON text in `data_base64`. */
function structuredData(body: JsonObject, prefix: string): unknown {
  const base64 = body['data_base64']
  if (base64 === undefined) return body['data']
  if (body['data'] !== undefined) {
    return invalid(
      'ENVELOPE_INVALID',
      `${prefix}data_base64`,
      'a CloudEvent has data or data_base64, not both',
    )
  }
  if (typeof base64 !== 'string') {
    return invalid(
      'ENVELOPE_INVALID',
      `${prefix}data_base64`,
      `expected base64 text, got ${describeJson(base64)}`,
    )
  }
  try {
    return JSON.parse(utf8.decode(Buffer.from(base64, 'base64'))) as unknown
  } catch (error) {
    return invalid(
      'ENVELOPE_INVALID',
      `${prefix}data_base64`,
      'does not decode to UTF-8 JSON text (the audit record)',
      error,
    )
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The audit record with what it lacks taken from the envelope (the table above), then read. */
function outcomeOf(event: CloudEvent | InputRejectedError): AdapterOutcome {
  if (event instanceof InputRejectedError) return rejected(event)
  const record: Record<string, unknown> = { ...event.record }
  if (record['event_id'] === undefined || record['event_id'] === null) {
    record['event_id'] = uuidPattern.test(event.id)
      ? event.id
      : uuidV5(eventIdNamespaces.cloudevents, JSON.stringify([event.source, event.id]))
  }
  if (record['occurred_at'] === undefined || record['occurred_at'] === null) {
    if (event.timeMs === undefined) {
      return rejected(
        invalid(
          'ENVELOPE_INVALID',
          event.attributeField('time'),
          `required: the event has no time; set the time attribute or ${event.recordPrefix}occurred_at`,
        ),
      )
    }
    record['occurred_at'] = event.timeMs
  }
  if (record['source'] === undefined || record['source'] === null)
    record['source'] = { service: event.source }
  const attributes = record['attributes'] ?? {}
  if (isJsonObject(attributes) && attributes['cloudevents.type'] === undefined) {
    record['attributes'] = { ...attributes, 'cloudevents.type': event.type }
  }
  const correlation = record['correlation'] ?? {}
  if (
    event.traceId !== undefined &&
    isJsonObject(correlation) &&
    (correlation['trace_id'] ?? null) === null
  ) {
    record['correlation'] = { ...correlation, trace_id: event.traceId }
  }
  const read = readEventJson(record, event.recordPrefix)
  return read.ok ? { status: 'events', drafts: [read.draft] } : rejected(read.error)
}

function batchEvents(body: unknown): AdapterOutcome {
  if (!Array.isArray(body)) {
    return rejected(
      invalid(
        'ENVELOPE_INVALID',
        '(value)',
        `expected a CloudEvents batch, a JSON array; got ${describeJson(body)}`,
      ),
    )
  }
  const drafts: EventDraft[] = []
  for (const [index, item] of (body as unknown[]).entries()) {
    if (!isJsonObject(item)) {
      return rejected(
        invalid(
          'ENVELOPE_INVALID',
          `[${index}]`,
          `expected a CloudEvent, a JSON object; got ${describeJson(item)}`,
        ),
      )
    }
    const outcome = outcomeOf(structuredCloudEvent(item, `[${index}].`))
    if (outcome.status !== 'events') return outcome
    drafts.push(...outcome.drafts)
  }
  return { status: 'events', drafts }
}

function contentTypeOf(headers: MessageHeaders): string | undefined {
  const contentType = headerValue(headers, 'content-type')
  return contentType === undefined ? undefined : mediaType(contentType)
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

function rfc3339Ms(time: string): number | undefined {
  const upper = time.trim().toUpperCase()
  if (!rfc3339.test(upper)) return undefined
  const ms = Date.parse(upper)
  return Number.isNaN(ms) ? undefined : ms
}

/** W3C trace context: version-traceid-parentid-flags; an all-zero trace id is invalid. */
const traceparentPattern = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/

function traceIdOf(traceparent: string): string | undefined {
  const traceId = traceparentPattern.exec(traceparent.trim())?.[1]
  return traceId === undefined || /^0+$/.test(traceId) ? undefined : traceId
}

function required(attributes: Attributes, name: string, value: unknown): InputRejectedError {
  return invalid(
    'ENVELOPE_INVALID',
    attributes.field(name),
    value === undefined
      ? 'required'
      : typeof value === 'string'
        ? 'must not be empty'
        : `expected a non-empty string, got ${describeJson(value)}`,
  )
}
