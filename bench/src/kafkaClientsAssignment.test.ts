import { describe, expect, it } from 'vitest'
import { assignmentSettled } from './kafkaClientsAssignment.js'

describe('assignmentSettled', () => {
  const six = { partitions: 6, members: 2 }

  it('settles when the members share every partition, each some, none twice', () => {
    expect(
      assignmentSettled(
        [
          [0, 2, 4],
          [1, 3, 5],
        ],
        six,
      ),
    ).toEqual({ settled: true, shape: '3+3' })
    expect(assignmentSettled([[0, 1, 2, 3, 4, 5]], { partitions: 6, members: 1 })).toEqual({
      settled: true,
      shape: '6',
    })
  })

  it('waits while a member has nothing, a partition is held twice or left out, or members are missing', () => {
    expect(assignmentSettled([[0, 1, 2, 3, 4, 5], []], six).settled).toBe(false)
    expect(
      assignmentSettled(
        [
          [0, 1, 2],
          [2, 3, 4, 5],
        ],
        six,
      ).settled,
    ).toBe(false)
    expect(
      assignmentSettled(
        [
          [0, 1],
          [2, 3, 4],
        ],
        six,
      ).settled,
    ).toBe(false)
    expect(assignmentSettled([[0, 1, 2, 3, 4, 5]], six)).toEqual({ settled: false, shape: '6' })
    expect(assignmentSettled([], six)).toEqual({ settled: false, shape: 'no member' })
  })
})
