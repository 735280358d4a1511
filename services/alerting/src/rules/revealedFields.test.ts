import { describe, expect, it } from 'vitest'
import { revealedFields } from './revealedFields.js'

describe('revealedFields', () => {
  it('names each hideable field an expression reads, however it is written', () => {
    expect(revealedFields(['event.actor.ip'])).toEqual(['ip'])
    expect(revealedFields(['event.on_behalf_of["session_id"] + "/" + event.actor.user_agent'])).toEqual([
      'session_id',
      'user_agent',
    ])
    expect(revealedFields(['event.attributes.channel', undefined, "event.actor['ip']"])).toEqual([
      'ip',
      'attributes',
    ])
  })

  it('names nothing for expressions that read none of them, or none at all', () => {
    expect(revealedFields(['event.actor.id', 'event.object.type + ":" + event.object.id'])).toEqual([])
    expect(revealedFields([undefined, undefined])).toEqual([])
    // A word that only contains one is not it.
    expect(revealedFields(['event.source.zip_code', 'event.actor.ipv6'])).toEqual([])
  })
})
