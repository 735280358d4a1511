import type { AuditEvent, Severity } from '@audit-pipeline/event-model'
import type { ProjectedEvent } from '../projection/projectEvent.js'

/**
 * How one destination kind writes events: each event as an entry (computed once, so batches can
 * be cut by their size in bytes), and a batch of entries as a request body. `entry` gets the
 * whole decoded event and what the destination may see of it (projectEvent), in which
 * `event_id` always is and `content_digest` is unless the destination excludes it.
 */
export type EventFormat = {
  entry(event: AuditEvent, projected: ProjectedEvent): string
  body(entries: readonly string[]): string
  contentType: string
}

/** Webhook bodies: a JSON array of events, or one event per line (NDJSON). */
export const webhookFormats = ['json_array', 'ndjson'] as const
export type WebhookFormat = (typeof webhookFormats)[number]

export function webhookFormat(format: WebhookFormat): EventFormat {
  return format === 'ndjson'
    ? {
        entry: (_, projected) => JSON.stringify(projected),
        body: (entries) => entries.map((entry) => `${entry}\n`).join(''),
        contentType: 'application/x-ndjson',
      }
    : {
        entry: (_, projected) => JSON.stringify(projected),
        body: (entries) => `[${entries.join(',')}]`,
        contentType: 'application/json',
      }
}

/** The metadata Splunk files each event under; unset fields are left to the HEC token's defaults. */
export type SplunkHecFields = { host?: string; source?: string; sourcetype?: string; index?: string }

/**
 * Splunk HTTP Event Collector (`/services/collector/event`): one `{time, host, source,
 * sourcetype, index, event}` object per event, concatenated (HEC reads a stream of objects).
 * `time` is the event's `occurred_at` in epoch seconds with milliseconds. `event` is the projected
 * event, `event_id` and `content_digest` in it; no HEC `fields` (index-time fields): Splunk
 * extracts both from the JSON event at search time, as it does every other field.
 */
export function splunkHecFormat(fields: SplunkHecFields): EventFormat {
  return {
    entry: (event, projected) =>
      JSON.stringify({
        time: event.occurred_at / 1000,
        ...(fields.host !== undefined && { host: fields.host }),
        ...(fields.source !== undefined && { source: fields.source }),
        ...(fields.sourcetype !== undefined && { sourcetype: fields.sourcetype }),
        ...(fields.index !== undefined && { index: fields.index }),
        event: projected,
      }),
    body: (entries) => entries.join('\n'),
    contentType: 'application/json',
  }
}

/** RFC 5424 severities for the event's. */
const syslogSeverity: Record<Severity, number> = {
  debug: 7,
  info: 6,
  notice: 5,
  warning: 4,
  error: 3,
  critical: 2,
}

/** The structured data element's id: `audit` under the example enterprise number of RFC 5612. */
export const syslogStructuredDataId = 'audit@32473'

export type SyslogFields = {
  /** 0 to 23; 13 is "log audit". */
  facility: number
  /** The HOSTNAME field: the forwarder's host, as syslog expects the sender's. */
  hostname: string
}

/**
 * RFC 5424 syslog over TCP with octet-counting framing (RFC 6587): `<length> <message>`, so a
 * message may hold newlines. APP-NAME is the event's source service, MSGID its category, the
 * structured data carries `event_id` (a receiver's deduplication key; too long for MSGID's 32
 * characters), `content_digest` (unless the destination excludes it) and what identifies the
 * change, and MSG the projected event as JSON.
 */
export function syslogFormat(fields: SyslogFields): EventFormat {
  const hostname = headerField(fields.hostname, 255)
  return {
    entry: (event, projected) => {
      const priority = fields.facility * 8 + syslogSeverity[event.severity]
      const timestamp = new Date(event.occurred_at).toISOString()
      const params = [
        ['event_id', event.event_id],
        ['content_digest', projected.content_digest],
        ['tenant', projected['tenant'] === undefined ? undefined : event.tenant],
        ['action', projected['action'] === undefined ? undefined : event.action.name],
        ['object_type', projected['object'] === undefined ? undefined : event.object.type],
        ['object_id', projected['object'] === undefined ? undefined : event.object.id],
      ] as const
      const data = params
        .filter(([, value]) => value !== undefined)
        .map(([name, value]) => ` ${name}="${escapeParam(value!)}"`)
        .join('')
      const message =
        `<${priority}>1 ${timestamp} ${hostname} ${headerField(event.source.service, 48)} - ` +
        `${headerField(event.category, 32)} [${syslogStructuredDataId}${data}] ${JSON.stringify(projected)}`
      return `${Buffer.byteLength(message)} ${message}`
    },
    body: (entries) => entries.join(''),
    contentType: 'application/octet-stream',
  }
}

/** A header field: printable US-ASCII without spaces, at most `maxChars`, `-` when empty. */
function headerField(value: string, maxChars: number): string {
  const printable = value.replace(/[^\x21-\x7e]/g, '_').slice(0, maxChars)
  return printable === '' ? '-' : printable
}

/** PARAM-VALUE escaping (RFC 5424 6.3.3): `"`, `\` and `]` get a backslash. */
function escapeParam(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`)
}
