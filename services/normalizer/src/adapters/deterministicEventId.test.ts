import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { eventIdNamespaces, uuidPattern, uuidV5 } from './deterministicEventId.js'

describe('uuidV5', () => {
  it('gives the RFC 9562 / Python uuid5 value for a known name', () => {
    // uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    )
  })

  it('is a lower-case version 5 UUID, the same for the same name, different across names and namespaces', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const id = uuidV5(eventIdNamespaces.debezium, a)
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(uuidPattern.test(id)).toBe(true)
        expect(uuidV5(eventIdNamespaces.debezium, a)).toBe(id)
        expect(uuidV5(eventIdNamespaces.cloudevents, a)).not.toBe(id)
        if (a !== b) expect(uuidV5(eventIdNamespaces.debezium, b)).not.toBe(id)
      }),
    )
  })
})
