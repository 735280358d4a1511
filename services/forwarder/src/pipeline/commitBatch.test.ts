import { describe, expect, it } from 'vitest'
import { fakeContext, kafkaRecord, messageOf } from '../testing/steps.js'
import { commitBatch } from './commitBatch.js'
import type { FinishedBatch } from './deliverBatch.js'

const finished = (deadLettered: string[] = []): FinishedBatch => ({
  outcome: 'delivered',
  delivered: 3,
  skipped: 1,
  deadLettered: deadLettered.map((errorClass, offset) => ({
    topic: 'audit.forward',
    partition: 0,
    offset: String(offset),
    failure: { errorClass, message: 'why' },
  })),
})

describe('commitBatch', () => {
  it('commits the offset after the batch, then counts its dead letters and reports it', async () => {
    const { context, calls } = fakeContext()
    const step = commitBatch(context, (batch) => calls.push(`report ${batch.delivered}`))
    await step.submit(messageOf(finished(['RECORD_FAILED', 'FILTER_FAILED']), kafkaRecord(41)))
    await step.submit(messageOf(finished(), kafkaRecord(44)))
    expect(calls).toEqual([
      'commit audit.forward/0@42',
      'dead letters RECORD_FAILED FILTER_FAILED',
      'report 3',
      'commit audit.forward/0@45',
      'report 3',
    ])
  })

  it('reports nothing when the commit fails: the runtime restarts and the batch comes again', async () => {
    const { context, calls } = fakeContext({ commit: () => Promise.reject(new Error('coordinator gone')) })
    const step = commitBatch(context, () => calls.push('report'))
    await expect(step.submit(messageOf(finished(['RECORD_FAILED']), kafkaRecord(1)))).rejects.toThrow(
      'coordinator gone',
    )
    expect(calls).toEqual([])
  })
})
