import { describe, expect, it } from 'vitest'
import { uuidPattern } from '@audit-pipeline/event-model'
import { e2eEvent, e2eEventId, e2eExpectation, e2eTraffic, eventsPerProducer } from './e2eEvents.js'

const run = { id: 0xdeadbeef, tenant: 'bench-e2e' }

describe('e2eEventId', () => {
  it('is a UUID naming the run, the producer and the event, distinct for each', () => {
    expect(e2eEventId(run, 1, 255)).toBe('deadbeef-0001-4000-8000-0000000000ff')
    const ids = new Set<string>()
    for (let producer = 0; producer < 3; producer++) {
      for (let index = 0; index < 1_000; index++) ids.add(e2eEventId(run, producer, index))
    }
    expect(ids.size).toBe(3_000)
    expect([...ids].every((id) => uuidPattern.test(id))).toBe(true)
  })
})

describe('e2eEvent', () => {
  it('lowers a priority from Urgent, on a ticket of its own, every alertEvery-th event', () => {
    const index = e2eTraffic.alertEvery - 1
    const plan = e2eEvent(run, 2, index)
    expect(plan).toMatchObject({ alerting: true, forwarded: false, object: { id: `ALERT-2-${index}` } })
    expect(plan.before).toMatchObject({ priority: 'Urgent' })
    expect(plan.after).toMatchObject({ priority: 'Normal' })
    expect(plan.context.actor.roles).toEqual(['agent'])
  })

  it('raises a priority from Normal otherwise, and marks every forwardEvery-th a failure', () => {
    const forwarded = e2eEvent(run, 0, e2eTraffic.forwardEvery - 1)
    expect(forwarded).toMatchObject({
      alerting: false,
      forwarded: true,
      context: { outcome: { status: 'failure' } },
    })
    expect(forwarded.before).toMatchObject({ priority: 'Normal' })
    expect(forwarded.after).toMatchObject({ priority: 'High' })
    const plain = e2eEvent(run, 0, 0)
    expect(plain).toMatchObject({ alerting: false, forwarded: false, object: { id: 'T-0-0' } })
    expect(plain.context.outcome).toBeUndefined()
  })
})

describe('eventsPerProducer', () => {
  it('splits as evenly as it can, the first producers taking the rest', () => {
    expect(eventsPerProducer(10, 3)).toEqual([4, 3, 3])
    expect(eventsPerProducer(200_000, 2)).toEqual([100_000, 100_000])
  })
})

describe('e2eExpectation', () => {
  it('owes every event to ClickHouse, the refused ones to the forwarder and one alert per alerting event', () => {
    const expectation = e2eExpectation(run, [1_000, 1_000])
    expect(expectation.stored).toHaveLength(2_000)
    // Per producer: 1,000 / 200 alerting; of the 200 fifth events, the alerting ones (every 200th is one) are not forwarded.
    expect(expectation.alerting).toHaveLength(2 * 5)
    expect(expectation.forwarded).toHaveLength(2 * (200 - 5))
    expect(expectation.stored[1_000]).toEqual({ eventId: e2eEventId(run, 1, 0), key: 'T-1-0', sequence: 0 })
  })

  it('leaves out the events whose send failed', () => {
    const failed = new Set([e2eEventId(run, 0, 4), e2eEventId(run, 0, 199)])
    const expectation = e2eExpectation(run, [200], failed)
    expect(expectation.stored).toHaveLength(198)
    expect(expectation.forwarded).toHaveLength(38)
    expect(expectation.alerting).toHaveLength(0)
  })
})
