import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { redactEvent } from '@audit-pipeline/event-model'
import { canonicalJson, contentDigest, eventForm } from '@audit-pipeline/integrity'
import { compileFilter, everyEvent } from '../filter/eventFilter.js'
import { splunkHecFormat, syslogFormat, webhookFormat, type EventFormat } from '../format/eventFormats.js'
import { parseFieldPath, type Projection } from '../projection/projectEvent.js'
import { sampleEvent } from '../testing/sampleEvent.js'
import { prepareEvent } from './prepareEvent.js'

const destination = (filter: string) => ({
  filter: compileFilter(filter),
  projection: { exclude: [], allowSensitive: false },
  format: webhookFormat('json_array'),
})

describe('prepareEvent', () => {
  it('formats a wanted event with its id and size', () => {
    const prepared = prepareEvent(sampleEvent(), destination('event.category == "security"'))
    expect(prepared).toMatchObject({ kind: 'send', eventId: sampleEvent().event_id })
    if (prepared.kind !== 'send') throw new Error('expected send')
    expect(prepared.bytes).toBe(Buffer.byteLength(prepared.entry))
    expect(prepared.entry).not.toContain('Use Save as PDF')
  })

  it('skips what the filter does not want', () => {
    expect(
      prepareEvent(sampleEvent({ category: 'business' }), destination('event.category == "security"')),
    ).toEqual({ kind: 'skip' })
  })

  it('dead-letters an event the filter cannot decide on, saying why', () => {
    expect(prepareEvent(sampleEvent(), destination('event.attributes.region == "eu"'))).toEqual({
      kind: 'deadLetter',
      errorClass: 'FILTER_FAILED',
      message: 'filter: No such key: region',
    })
  })
})

const jsonOf = (text: string) => JSON.parse(text) as Record<string, unknown>
const paths = (...list: string[]) => list.map(parseFieldPath)

/** Each format, and how a receiver reads `content_digest` out of one of its entries. */
const formats: [string, EventFormat, (entry: string) => unknown[]][] = [
  ['webhook json_array', webhookFormat('json_array'), (entry) => [jsonOf(entry)['content_digest']]],
  ['webhook ndjson', webhookFormat('ndjson'), (entry) => [jsonOf(entry)['content_digest']]],
  [
    'Splunk HEC',
    splunkHecFormat({ sourcetype: 'audit:event' }),
    (entry) => [(jsonOf(entry)['event'] as Record<string, unknown>)['content_digest']],
  ],
  [
    'syslog',
    syslogFormat({ facility: 13, hostname: 'h' }),
    // The structured data parameter, and the projected event that is MSG.
    (entry) => [
      /\[audit@32473 [^\]]*content_digest="([^"]*)"/.exec(entry)?.[1],
      jsonOf(/\] (\{.*)$/s.exec(entry)?.[1] ?? '{}')['content_digest'],
    ],
  ],
]

describe('prepareEvent: the content digest', () => {
  const event = sampleEvent()
  const digest = contentDigest(event)

  it("is the digest of the whole event in every format, whatever the destination's projection and redaction", () => {
    // Redaction changes what the digest would be over: this test would catch one computed after it.
    expect(contentDigest(redactEvent(event, { mode: 'drop' }))).not.toBe(digest)
    const projections: Projection[] = [
      { exclude: [], allowSensitive: false },
      { exclude: [], allowSensitive: true },
      { include: paths('category'), exclude: [], allowSensitive: false },
      { include: paths('event_id'), exclude: [], allowSensitive: false },
      { exclude: paths('actor', 'before', 'after', 'changes', 'tenant', 'object'), allowSensitive: false },
    ]
    for (const [name, format, digestsIn] of formats) {
      for (const projection of projections) {
        const prepared = prepareEvent(event, { filter: everyEvent, projection, format })
        if (prepared.kind !== 'send') throw new Error(`${name}: expected send`)
        const found = digestsIn(prepared.entry)
        expect(found, `${name}, ${JSON.stringify(projection)}`).toEqual(found.map(() => digest))
      }
    }
    expect(digest).toMatch(/^[0-9a-f]{64}$/)
  })

  it('can be checked against a complete copy, as the README tells a SIEM user to', () => {
    const prepared = prepareEvent(event, {
      filter: everyEvent,
      projection: { exclude: [], allowSensitive: true },
      format: webhookFormat('ndjson'),
    })
    if (prepared.kind !== 'send') throw new Error('expected send')
    // recorded_at (the pipeline's receipt time) is not part of the digest.
    const { content_digest: sent, recorded_at: _receivedAt, ...copy } = jsonOf(prepared.entry)
    const recomputed = createHash('sha256')
      .update(canonicalJson({ ...copy, form: eventForm }))
      .digest('hex')
    expect(recomputed).toBe(sent)
    expect(eventForm).toBe('audit-event/1')
  })

  it('is left out where the destination excludes it', () => {
    for (const [name, format] of formats) {
      const prepared = prepareEvent(event, {
        filter: everyEvent,
        projection: { exclude: paths('content_digest'), allowSensitive: true },
        format,
      })
      if (prepared.kind !== 'send') throw new Error(`${name}: expected send`)
      expect(prepared.entry, name).not.toContain('content_digest')
      expect(prepared.entry, name).not.toContain(digest)
    }
  })
})
