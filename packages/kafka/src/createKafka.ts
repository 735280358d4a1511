import { readFileSync } from 'node:fs'
import { Kafka, logLevel, type KafkaConfig, type logCreator, type SASLOptions } from 'kafkajs'
import type { KafkaSettings } from '@audit-pipeline/config'

export type CreateKafkaOptions = {
  /** kafkajs logs at WARN unless told otherwise; its INFO is a line per group rebalance. */
  logLevel?: logLevel
  /** Where kafkajs's own log lines go (default: its console JSON); see kafkaLogsTo. */
  logCreator?: logCreator
}

/** The few logger methods kafkajs's lines are written to; a pino logger has them. */
export type StructuredLogger = {
  error(fields: object, message: string): void
  warn(fields: object, message: string): void
  info(fields: object, message: string): void
  debug(fields: object, message: string): void
}

/** Sends kafkajs's log lines to a service's structured logger, with kafkajs's fields kept. */
export function kafkaLogsTo(logger: StructuredLogger): logCreator {
  return () =>
    ({ level, log: { message, ...fields } }) => {
      const entry = { kafkajs: fields }
      if (level === logLevel.ERROR || level === logLevel.NOTHING) logger.error(entry, message)
      else if (level === logLevel.WARN) logger.warn(entry, message)
      else if (level === logLevel.INFO) logger.info(entry, message)
      else logger.debug(entry, message)
    }
}

/** The kafkajs configuration for validated settings: TLS files are read here, once. */
export function kafkaConfigFor(settings: KafkaSettings, options: CreateKafkaOptions = {}): KafkaConfig {
  const { ssl, sasl } = settings
  return {
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: options.logLevel ?? logLevel.WARN,
    ...(options.logCreator && { logCreator: options.logCreator }),
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
