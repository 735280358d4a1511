import { describe, expect, it } from 'vitest'
import { minWebhookSecretBytes, webhookSigningKey, WebhookSecretError } from './webhookSecret.js'

const whsec = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`

describe('webhookSigningKey', () => {
  it('decodes a secret of at least 24 bytes, with or without the whsec_ prefix', () => {
    expect(minWebhookSecretBytes).toBe(24)
    expect(webhookSigningKey(whsec(24))).toEqual(Buffer.alloc(24, 7))
    expect(webhookSigningKey(whsec(32).slice('whsec_'.length))).toEqual(Buffer.alloc(32, 7))
  })

  it('counts decoded bytes: 24 base64 characters are only 18 bytes', () => {
    const eighteen = whsec(18)
    expect(eighteen.length - 'whsec_'.length).toBe(24)
    expect(() => webhookSigningKey(eighteen)).toThrow(
      'a Standard Webhooks secret must hold at least 24 bytes once decoded, this one holds 18; make one with: echo "whsec_$(openssl rand -base64 32)"',
    )
    expect(() => webhookSigningKey(whsec(23))).toThrow(WebhookSecretError)
  })

  it('refuses what is not base64, saying what is expected', () => {
    expect(() => webhookSigningKey('whsec_not base64!')).toThrow(
      /^expected a Standard Webhooks secret, whsec_ followed by base64 of at least 24 bytes/,
    )
    expect(() => webhookSigningKey('')).toThrow(WebhookSecretError)
  })
})
