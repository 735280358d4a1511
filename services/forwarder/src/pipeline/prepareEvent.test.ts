import { describe, expect, it } from 'vitest'
import { compileFilter } from '../filter/eventFilter.js'
import { webhookFormat } from '../format/eventFormats.js'
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
