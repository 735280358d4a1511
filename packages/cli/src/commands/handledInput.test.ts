import { describe, expect, it } from 'vitest'
import { planHandledInputRemoval } from './handledInput.js'

const watermarks = (...parts: [low: string, high: string][]) =>
  parts.map(([low, high], partition) => ({ partition, low, high }))

describe('planHandledInputRemoval', () => {
  it('removes what lies below the committed offset, from the earliest record left', () => {
    expect(
      planHandledInputRemoval(
        'audit.events',
        [
          { partition: 0, offset: '120' },
          { partition: 1, offset: '7' },
        ],
        watermarks(['0', '130'], ['5', '7']),
      ),
    ).toEqual([
      {
        topic: 'audit.events',
        partition: 0,
        status: 'removed',
        committedOffset: '120',
        fromOffset: '0',
        count: 120,
      },
      {
        topic: 'audit.events',
        partition: 1,
        status: 'removed',
        committedOffset: '7',
        fromOffset: '5',
        count: 2,
      },
    ])
  })

  it('leaves a partition the group never committed (kafkajs says -1, which deleting would read as everything)', () => {
    expect(
      planHandledInputRemoval('t', [{ partition: 0, offset: '-1' }], watermarks(['0', '10'], ['0', '3'])),
    ).toEqual([
      { topic: 't', partition: 0, status: 'no-committed-offset' },
      { topic: 't', partition: 1, status: 'no-committed-offset' },
    ])
  })

  it('has nothing to remove where everything handled is already gone', () => {
    expect(planHandledInputRemoval('t', [{ partition: 0, offset: '40' }], watermarks(['40', '52']))).toEqual([
      { topic: 't', partition: 0, status: 'nothing-to-remove', committedOffset: '40', earliestOffset: '40' },
    ])
  })

  it('leaves a partition whose committed offset is past its end: the topic was made again since', () => {
    expect(planHandledInputRemoval('t', [{ partition: 0, offset: '900' }], watermarks(['0', '12']))).toEqual([
      { topic: 't', partition: 0, status: 'committed-beyond-end', committedOffset: '900', endOffset: '12' },
    ])
  })

  it('reports partitions in order, and offsets beyond 2^53 exactly', () => {
    const big = '9007199254740993'
    const plan = planHandledInputRemoval(
      't',
      [{ partition: 1, offset: big }],
      [
        { partition: 1, low: '9007199254740990', high: big },
        { partition: 0, low: '0', high: '0' },
      ],
    )
    expect(plan.map((p) => p.partition)).toEqual([0, 1])
    expect(plan[1]).toMatchObject({ status: 'removed', count: 3, committedOffset: big })
  })
})
