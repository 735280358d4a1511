import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it } from 'vitest'
import { eventField } from './eventFields.js'

/** The first reference event of schemas/examples (ticket 9548-B1 created), in canonical form. */
const event: AuditEvent = {
  recorded_at: 0,
  ...parseEventJson(JSON.parse(ticketExampleLines()[0] ?? '')),
}

const read = (path: string, target: AuditEvent = event) => {
  const found = eventField(path)
  if (!found) throw new Error(`no field ${path}`)
  return found.field.read(target)
}

describe('eventField', () => {
  it('reads the named fields of the canonical event', () => {
    expect(
      ['category', 'tenant', 'action.kind', 'action.name', 'object.type', 'source.service', 'actor.type'].map(
        (path) => read(path),
      ),
    ).toEqual(['business', 'witify', 'create', 'ticket.create', 'ticket', 'helpdesk-api', 'user'])
    expect([read('outcome.status'), read('severity'), read('object.label')]).toEqual([
      'success',
      'info',
      'Export to PDF fails',
    ])
    expect([read('actor.roles'), read('correlation.request_id'), read('object.id2')]).toEqual([
      ['agent'],
      'req-5b21',
      null,
    ])
  })

  it('reads nothing under an on_behalf_of that is null', () => {
    expect([read('on_behalf_of.type'), read('on_behalf_of.roles')]).toEqual([undefined, undefined])
    const delegated = {
      ...event,
      on_behalf_of: { ...event.actor, type: 'service' as const, id: 'scheduler' },
    }
    expect([read('on_behalf_of.type', delegated), read('on_behalf_of.id', delegated)]).toEqual([
      'service',
      'scheduler',
    ])
  })

  it('reads attributes by the rest of the path, or by the quoted form', () => {
    const withKeys = { ...event, attributes: { channel: 'web', 'e.mail': 'yes', 'http.method': 'POST' } }
    expect(read('attributes.channel', withKeys)).toBe('web')
    expect(read('attributes.http.method', withKeys)).toBe('POST')
    expect(read('attributes["e.mail"]', withKeys)).toBe('yes')
    expect(read('attributes.missing', withKeys)).toBeUndefined()
    expect(eventField('attributes["e.mail"]')?.key).toBe(eventField('attributes.e.mail')?.key)
  })

  it('does not read what attributes inherit', () => {
    expect([
      read('attributes.constructor'),
      read('attributes.__proto__'),
      read('attributes.toString'),
    ]).toEqual([undefined, undefined, undefined])
  })

  it('knows no other field', () => {
    expect(
      ['catgory', 'action', 'attributes', 'attributes.', 'occurred_at', 'changes', 'before', 'Category'].map(
        eventField,
      ),
    ).toEqual(Array(8).fill(undefined))
  })

  it('marks closed enums and the fields every event has', () => {
    const severity = eventField('severity')?.field
    expect(severity?.kind === 'text' && severity.allowed).toContain('critical')
    expect(severity?.kind === 'text' && severity.alwaysPresent).toBe(true)
    const label = eventField('object.label')?.field
    expect(label?.kind === 'text' && label.alwaysPresent).toBe(false)
  })
})
