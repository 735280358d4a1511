import { describe, expect, it } from 'vitest'
import { reservedNamespaceOf } from './reservedNamespaces.js'

const claim = (objectType: string, action: string) =>
  reservedNamespaceOf({
    object: { type: objectType, id: 'x', id2: null, id3: null, label: null },
    action: { kind: 'operation', name: action },
  })

describe('reservedNamespaceOf', () => {
  it.each([
    ['alert', 'ticket.update', 'alert'],
    ['ticket', 'alert.raised', 'alert'],
    ['ALERT', 'x', 'alert'],
    ['ticket', 'Alert.Resolved', 'alert'],
    ['audit_query', 'read', 'access-record'],
    ['ticket', 'audit_query.read', 'access-record'],
    ['audit_checkpoint', 'x', 'integrity'],
    ['ticket', 'audit_checkpoint.signed', 'integrity'],
  ])('object %s, action %s claims %s', (objectType, action, expected) => {
    expect(claim(objectType, action)).toBe(expected)
  })

  it.each([
    ['ticket', 'ticket.update'],
    ['alerts', 'ticket.alerted'],
    ['audit_query_log', 'alerting.configured'],
    ['ticket', 'audit_queryread'],
  ])('object %s, action %s claims nothing', (objectType, action) => {
    expect(claim(objectType, action)).toBeUndefined()
  })
})
