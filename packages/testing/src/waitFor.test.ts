import { describe, expect, it } from 'vitest'
import { waitFor } from './waitFor.js'
import { uniqueName } from './uniqueName.js'

describe('waitFor', () => {
  it('returns the first value the probe yields', async () => {
    let calls = 0
    const value = await waitFor(() => (++calls >= 3 ? `after ${calls}` : undefined), {
      timeoutMs: 5_000,
      intervalMs: 1,
    })
    expect(value).toBe('after 3')
  })

  it('treats a throwing probe as not ready and reports its last error on timeout', async () => {
    const failure = waitFor(
      () => {
        throw new Error('broker not up')
      },
      { timeoutMs: 30, intervalMs: 5, description: 'the broker' },
    )
    await expect(failure).rejects.toThrow('timed out after 30 ms waiting for the broker')
    await failure.catch((error: Error) => expect((error.cause as Error).message).toBe('broker not up'))
  })
})

describe('uniqueName', () => {
  it('is unique and safe for topics and database names', () => {
    const a = uniqueName('e2e-test.topic')
    const b = uniqueName('e2e-test.topic')
    expect(a).not.toBe(b)
    expect(a).toMatch(/^e2e_test_topic_[a-z0-9]+_[0-9a-f]{8}$/)
  })
})
