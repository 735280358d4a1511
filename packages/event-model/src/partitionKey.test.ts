import { describe, expect, it } from 'vitest'
import { partitionKeyFor } from './partitionKey.js'

const object = { type: 'ticket', id: '9548-B1', id2: null, id3: null, label: null }

describe('partitionKeyFor', () => {
  it('is tenant, object type and id', () => {
    expect(partitionKeyFor({ tenant: 'witify', object })).toBe('witify/ticket/9548-B1')
    expect(partitionKeyFor({ tenant: 'witify', object: { ...object, id2: 'line', id3: '7' } })).toBe(
      'witify/ticket/9548-B1/line/7',
    )
  })

  it('never gives two different objects the same key', () => {
    const a = partitionKeyFor({ tenant: 'a/b', object: { ...object, type: 'c' } })
    const b = partitionKeyFor({ tenant: 'a', object: { ...object, type: 'b/c' } })
    expect(a).not.toBe(b)
    const onlyId3 = partitionKeyFor({ tenant: 't', object: { ...object, id2: null, id3: 'x' } })
    const onlyId2 = partitionKeyFor({ tenant: 't', object: { ...object, id2: 'x', id3: null } })
    expect(onlyId3).toBe('t/ticket/9548-B1//x')
    expect(onlyId2).toBe('t/ticket/9548-B1/x')
  })
})
