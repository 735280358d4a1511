import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kafka } from 'kafkajs'
import { Registry } from 'prom-client'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { ConfigError } from '@audit-pipeline/config'
import { createLogger } from '@audit-pipeline/service-runtime'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { loadNormalizerConfig, type NormalizerConfig } from './config.js'
import { createNormalizerMetrics } from './metrics.js'
import { createNormalizer } from './normalizer.js'

/** A config whose policy encrypts, with the key store's settings, read from fake files. */
function encryptingConfig(fieldKeys: { dir: string; kekFile: string }): NormalizerConfig {
  const files: Record<string, string> = {
    'redaction.yaml': 'default: { method: encrypt, sensitive_fields: [solution] }\n',
  }
  return loadNormalizerConfig(
    {
      KAFKA_BROKERS: '127.0.0.1:9092',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
      NORMALIZER_ROUTES_FILE: 'routes.yaml',
      NORMALIZER_REDACTION_FILE: 'redaction.yaml',
      FIELD_KEYS_DIR: fieldKeys.dir,
      FIELD_KEYS_KEK_FILE: fieldKeys.kekFile,
    },
    { readFile: (path) => files[path] ?? '' },
  )
}

/** Kafka that counts what is asked of it: nothing should be, before the key store is open. */
function untouchedKafka() {
  const connect = vi.fn(() => Promise.resolve())
  const kafka = {
    admin: () => ({ connect, disconnect: connect }),
    producer: () => ({ connect, disconnect: connect }),
    consumer: () => ({ connect, disconnect: connect }),
  } as unknown as Kafka
  return { kafka, connect }
}

function normalizerWith(config: NormalizerConfig, kafka: Kafka) {
  return createNormalizer({
    config,
    kafka,
    codec: {} as AuditEventCodec,
    metrics: createNormalizerMetrics(new Registry()),
    log: createLogger({ service: 'normalizer', level: 'silent' }),
    readFile: () => 'default:\n  to: [audit.normalized]\n',
  })
}

describe('createNormalizer: the key store of the encrypt method', () => {
  it('refuses a policy that encrypts with no key store at all, before any event could be dead-lettered for it', () => {
    const config = { ...encryptingConfig({ dir: '/unused', kekFile: '/unused' }), fieldKeys: undefined }
    expect(() => normalizerWith(config, untouchedKafka().kafka)).toThrow(ConfigError)
    expect(() => normalizerWith(config, untouchedKafka().kafka)).toThrow(
      /FIELD_KEYS_DIR: the redaction policy encrypts/,
    )
  })

  it('opens the store first on start: a key-encryption key file it cannot read stops it before Kafka', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'normalizer-start-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const { kafka, connect } = untouchedKafka()
    const normalizer = normalizerWith(encryptingConfig({ dir, kekFile: join(dir, 'no-kek') }), kafka)
    await expect(normalizer.start()).rejects.toThrow(
      /FIELD_KEYS_KEK_FILE: cannot read the key-encryption key file/,
    )
    expect(connect).not.toHaveBeenCalled()
  })
})
