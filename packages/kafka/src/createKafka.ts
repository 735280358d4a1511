import { readFileSync } from 'node:fs'
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs'
import type { KafkaSettings } from '@audit-pipeline/config'

export type CreateKafkaOptions = {
  /** kafkajs logs at WARN unless told otherwise; its INFO is a line per group rebalance. */
  logLevel?: logLevel
}

/** The kafkajs configuration for validated settings: TLS files are read here, once. */
export function kafkaConfigFor(settings: KafkaSettings, options: CreateKafkaOptions = {}): KafkaConfig {
  const { ssl, sasl } = settings
  return {
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: options.logLevel ?? logLevel.WARN,
    ...(ssl && {
      ssl: {
        rejectUnauthorized: ssl.rejectUnauthorized,
        ...(ssl.ca && { ca: [readFileSync(ssl.ca, 'utf8')] }),
        ...(ssl.cert && { cert: readFileSync(ssl.cert, 'utf8') }),
        ...(ssl.key && { key: readFileSync(ssl.key, 'utf8') }),
      },
    }),
    ...(sasl && { sasl: sasl as SASLOptions }),
  }
}

export function createKafka(settings: KafkaSettings, options: CreateKafkaOptions = {}): Kafka {
  return new Kafka(kafkaConfigFor(settings, options))
}
