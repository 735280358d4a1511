import { describe, expect, it } from 'vitest'
import { sampleEvent } from '../testing/sampleEvent.js'
import { compileFilter, FilterEvaluationError } from './eventFilter.js'

describe('compileFilter', () => {
  it('selects events by their fields', () => {
    const wanted = compileFilter('event.category == "security" && event.severity in ["warning", "error"]')
    expect(wanted(sampleEvent())).toBe(true)
    expect(wanted(sampleEvent({ category: 'business' }))).toBe(false)
    expect(wanted(sampleEvent({ severity: 'info' }))).toBe(false)
  })

  it('reads nested fields, lists and attributes, and has() guards a missing key', () => {
    expect(
      compileFilter('"agent" in event.actor.roles && event.attributes.channel == "web"')(sampleEvent()),
    ).toBe(true)
    expect(
      compileFilter('has(event.attributes.region) && event.attributes.region == "eu"')(sampleEvent()),
    ).toBe(false)
  })

  it('reads events decoded as record class instances, as the Avro codec gives them', () => {
    class AuditEvent {}
    class Actor {}
    const decoded = Object.assign(new AuditEvent(), sampleEvent(), {
      actor: Object.assign(new Actor(), sampleEvent().actor),
    })
    expect(
      compileFilter('event.category == "security" && "agent" in event.actor.roles')(decoded as never),
    ).toBe(true)
  })

  it('refuses an expression that does not parse, names another variable, or does not give a bool', () => {
    expect(() => compileFilter('event.category ==')).toThrow(/Unexpected token/)
    expect(() => compileFilter('tenant == "x"')).toThrow(/Unknown variable: tenant/)
    expect(() => compileFilter('"text"')).toThrow(/gives string, not bool/)
  })

  it('throws FilterEvaluationError when the expression cannot decide for an event', () => {
    const filter = compileFilter('event.attributes.region == "eu"')
    expect(() => filter(sampleEvent())).toThrow(FilterEvaluationError)
    expect(() => filter(sampleEvent())).toThrow(/No such key: region/)
    expect(() => compileFilter('event.category')(sampleEvent())).toThrow(/gave string, not true or false/)
  })
})
