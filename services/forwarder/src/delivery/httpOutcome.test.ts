import { describe, expect, it } from 'vitest'
import { AddressRefusedError } from '@audit-pipeline/outbound'
import { networkFailure } from './httpOutcome.js'

describe('networkFailure', () => {
  it('makes a refusal of the address guard, wrapped as undici wraps it, a final DESTINATION_REFUSED', () => {
    const refusal = new AddressRefusedError(
      'hooks.example.com',
      '169.254.169.254',
      'linkLocal',
      "the destination's allowed_private_addresses",
    )
    const failure = networkFailure(new Error('connect failed', { cause: refusal }))
    expect(failure).toMatchObject({
      code: 'DESTINATION_REFUSED',
      reason: 'PRIVATE_ADDRESS',
      retriable: false,
      cause: refusal,
    })
    expect(failure.message).toBe(
      "refused to connect to hooks.example.com: it resolves to 169.254.169.254, a linkLocal address; list it in the destination's allowed_private_addresses if it is meant to be reached",
    )
  })

  it('retries a refused connection and not an unknown failure', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    expect(networkFailure(refused)).toMatchObject({ reason: 'CONNECT_REFUSED', retriable: true })
    expect(networkFailure(new Error('odd'))).toMatchObject({ reason: 'CONNECTION_FAILED', retriable: false })
  })
})
