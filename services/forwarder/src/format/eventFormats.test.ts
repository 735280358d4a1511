import { describe, expect, it } from 'vitest'
import { contentDigest } from '@audit-pipeline/integrity'
import { parseFieldPath, projectEvent } from '../projection/projectEvent.js'
import { sampleEvent } from '../testing/sampleEvent.js'
import { splunkHecFormat, syslogFormat, webhookFormat } from './eventFormats.js'

const event = sampleEvent()
const digest = contentDigest(event)
const projected = projectEvent(event, { exclude: [], allowSensitive: false }, digest)
const second = sampleEvent({ event_id: '11111111-1111-4111-8111-111111111111', severity: 'critical' })
const projectedSecond = projectEvent(second, { exclude: [], allowSensitive: false }, contentDigest(second))

/** Splits octet-counted frames (RFC 6587) the way a receiver does. */
function readFrames(stream: string): string[] {
  const bytes = Buffer.from(stream)
  const frames: string[] = []
  let at = 0
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at)
    const length = Number(bytes.subarray(at, space).toString())
    frames.push(bytes.subarray(space + 1, space + 1 + length).toString())
    at = space + 1 + length
  }
  return frames
}

describe('webhook formats', () => {
  it('writes a JSON array or NDJSON of the projected events', () => {
    for (const [name, parse] of [
      ['json_array', (body: string) => JSON.parse(body) as unknown[]],
      [
        'ndjson',
        (body: string) =>
          body
            .trimEnd()
            .split('\n')
            .map((line) => JSON.parse(line) as unknown),
      ],
    ] as const) {
      const format = webhookFormat(name)
      const body = format.body([format.entry(event, projected), format.entry(second, projectedSecond)])
      expect(parse(body)).toEqual([projected, projectedSecond])
      expect(format.entry(event, projected)).toMatch(
        new RegExp(`^\\{"event_id":"${event.event_id}","content_digest":"${digest}",`),
      )
    }
    expect(webhookFormat('ndjson').contentType).toBe('application/x-ndjson')
  })
})

describe('Splunk HEC format', () => {
  it('writes concatenated event objects with time in epoch seconds and the configured metadata', () => {
    const format = splunkHecFormat({ sourcetype: 'audit:event', index: 'audit', source: 'audit-pipeline' })
    const body = format.body([format.entry(event, projected), format.entry(second, projectedSecond)])
    const objects = body.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(objects[0]).toEqual({
      time: 1710594720.25,
      source: 'audit-pipeline',
      sourcetype: 'audit:event',
      index: 'audit',
      event: projected,
    })
    expect(objects[0]?.['event']).toMatchObject({ event_id: event.event_id, content_digest: digest })
    expect(objects[1]).not.toHaveProperty('host')
    expect(objects[1]).not.toHaveProperty('fields')
    expect((objects[1]?.['event'] as { event_id: string }).event_id).toBe(second.event_id)
  })
})

describe('syslog format', () => {
  it('writes RFC 5424 messages with octet-counting framing, the event id in structured data', () => {
    const format = syslogFormat({ facility: 13, hostname: 'fwd-1' })
    const stream = format.body([format.entry(event, projected), format.entry(second, projectedSecond)])
    const frames = readFrames(stream)
    expect(frames).toHaveLength(2)
    const pattern = /^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[audit@32473 ([^\]]*)\] (.*)$/s
    const [, priority, timestamp, host, app, procId, msgId, data, message] = pattern.exec(frames[0]!) ?? []
    expect(Number(priority)).toBe(13 * 8 + 4)
    expect(timestamp).toBe('2024-03-16T13:12:00.250Z')
    expect([host, app, procId, msgId]).toEqual(['fwd-1', 'helpdesk-api', '-', 'security'])
    expect(data).toBe(
      `event_id="${event.event_id}" content_digest="${digest}" tenant="witify" action="ticket.update" object_type="ticket" object_id="9548-B1"`,
    )
    expect(JSON.parse(message!)).toEqual(projected)
    expect(Number(pattern.exec(frames[1]!)?.[1])).toBe(13 * 8 + 2)
  })

  it('counts bytes, not characters, and escapes structured data values', () => {
    const format = syslogFormat({ facility: 1, hostname: 'h' })
    const odd = sampleEvent({ tenant: 'a"b]c\\', object: { ...event.object, label: 'Ünïcödé ✓' } })
    const frame = format.entry(
      odd,
      projectEvent(odd, { exclude: [], allowSensitive: true }, contentDigest(odd)),
    )
    const [length, ...rest] = frame.split(' ')
    expect(Number(length)).toBe(Buffer.byteLength(rest.join(' ')))
    expect(frame).toContain('tenant="a\\"b\\]c\\\\"')
    expect(readFrames(frame + frame)).toHaveLength(2)
  })

  it('writes content_digest only when the projected event has it, as it does tenant and the rest', () => {
    const format = syslogFormat({ facility: 13, hostname: 'h' })
    const narrow = projectEvent(
      event,
      { include: [parseFieldPath('severity')], exclude: [], allowSensitive: false },
      digest,
    )
    expect(format.entry(event, narrow)).toContain(
      `[audit@32473 event_id="${event.event_id}" content_digest="${digest}"] {"event_id"`,
    )
    const excluded = projectEvent(event, { exclude: [['content_digest']], allowSensitive: false }, digest)
    expect(format.entry(event, excluded)).not.toContain('content_digest')
  })
})
