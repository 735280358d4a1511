import { Webhook } from 'standardwebhooks'
import { webhookSigningKey } from '@audit-pipeline/outbound'
import { describe, expect, it } from 'vitest'
import { batchIdFor } from './batchId.js'
import { webhookSignatureHeaders } from './webhookSignature.js'

const secret = `whsec_${Buffer.from('a test secret of thirty-two bytes').toString('base64')}`

describe('webhookSignatureHeaders', () => {
  it('signs so that standardwebhooks Webhook.verify accepts the body, and refuses a changed one', () => {
    const body = '[{"event_id":"e-1"}]'
    const headers = webhookSignatureHeaders(webhookSigningKey(secret), 'msg_1', Date.now(), body)
    expect(new Webhook(secret).verify(body, headers)).toEqual([{ event_id: 'e-1' }])
    expect(() => new Webhook(secret).verify(body.replace('1', '2'), headers)).toThrow()
  })

  it('matches the package’s own signature', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    const headers = webhookSignatureHeaders(webhookSigningKey(secret), 'msg_2', now, 'x')
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('msg_2', new Date(now), 'x'))
    expect(headers['webhook-timestamp']).toBe(String(now / 1000))
  })
})

describe('batchIdFor', () => {
  it('is the same for the same events and differs for others', () => {
    expect(batchIdFor(['a', 'b'])).toBe(batchIdFor(['a', 'b']))
    expect(batchIdFor(['a', 'b'])).not.toBe(batchIdFor(['a', 'c']))
    expect(batchIdFor(['ab'])).not.toBe(batchIdFor(['a', 'b']))
    expect(batchIdFor(['a'])).toMatch(/^msg_[0-9a-f]{32}$/)
  })
})
