import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { kafkaConfigFor } from './createKafka.js'

describe('kafkaConfigFor', () => {
  it('maps plain settings', () => {
    expect(kafkaConfigFor({ clientId: 'svc', brokers: ['127.0.0.1:1'] })).toEqual({
      clientId: 'svc',
      brokers: ['127.0.0.1:1'],
      logLevel: logLevel.WARN,
    })
  })

  it('reads TLS files and passes SASL through', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafka-tls-'))
    writeFileSync(join(dir, 'ca.pem'), 'CA')
    writeFileSync(join(dir, 'cert.pem'), 'CERT')
    writeFileSync(join(dir, 'key.pem'), 'KEY')
    const config = kafkaConfigFor({
      clientId: 'svc',
      brokers: ['b:9093'],
      ssl: {
        ca: join(dir, 'ca.pem'),
        cert: join(dir, 'cert.pem'),
        key: join(dir, 'key.pem'),
        rejectUnauthorized: false,
      },
      sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' },
    })
    expect(config.ssl).toEqual({ rejectUnauthorized: false, ca: ['CA'], cert: 'CERT', key: 'KEY' })
    expect(config.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'u', password: 'p' })
  })
})
