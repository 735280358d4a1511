import { describe, expect, it } from 'vitest'
import { brokerProperties, newClusterId } from './kafkaBroker.js'

describe('newClusterId', () => {
  it('is a 22-character base64url UUID', () => {
    expect(newClusterId()).toMatch(/^[A-Za-z0-9_-]{22}$/)
  })

  it('never starts with a dash, which the storage tool would read as an option', () => {
    // 0xf8 encodes to a leading '-' in base64url; the second draw does not.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)]
    const id = newClusterId(() => draws.shift()!)
    expect(id.startsWith('-')).toBe(false)
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true)
    expect(draws).toEqual([])
  })
})

describe('brokerProperties', () => {
  it('fills the ports and the data folder', () => {
    const text = brokerProperties('a=${KAFKA_PORT}\nb=${CONTROLLER_PORT}\nc=${LOG_DIR}\nd=${KAFKA_PORT}', {
      kafkaPort: 1,
      controllerPort: 2,
      dataDir: '/d',
    })
    expect(text).toBe('a=1\nb=2\nc=/d\nd=1')
  })
})
