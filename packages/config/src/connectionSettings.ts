import { z } from 'zod'
import { parseSettings } from './parseSettings.js'

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/

const brokerList = z
  .string()
  .transform((value) => value.split(',').map((broker) => broker.trim()))
  .refine((brokers) => brokers.every((broker) => hostPort.test(broker)), {
    message: 'expected a comma-separated list of host:port, e.g. 127.0.0.1:9092,127.0.0.1:9093',
  })

const httpUrl = z.url({
  protocol: /^https?$/,
  error: 'expected an http:// or https:// URL',
})

const flag = z.enum(['true', 'false'], { error: 'expected true or false' }).transform((v) => v === 'true')

const saslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const

const schema = z
  .object({
    /** Kafka bootstrap servers. Unset: the local stack's broker. */
    KAFKA_BROKERS: brokerList.optional(),
    KAFKA_CLIENT_ID: z.string().default('audit-pipeline'),
    /** TLS to the brokers; on when any KAFKA_SSL_* file is given. */
    KAFKA_SSL: flag.optional(),
    KAFKA_SSL_CA_FILE: z.string().optional(),
    KAFKA_SSL_CERT_FILE: z.string().optional(),
    KAFKA_SSL_KEY_FILE: z.string().optional(),
    /** Verify the brokers' certificates (default true). */
    KAFKA_SSL_REJECT_UNAUTHORIZED: flag.default(true),
    KAFKA_SASL_MECHANISM: z
      .enum(saslMechanisms, { error: `expected one of: ${saslMechanisms.join(', ')}` })
      .optional(),
    KAFKA_SASL_USERNAME: z.string().optional(),
    KAFKA_SASL_PASSWORD: z.string().optional(),
    /** Confluent-compatible schema registry base URL (Apicurio: …/apis/ccompat/v7). */
    SCHEMA_REGISTRY_URL: httpUrl.optional(),
    SCHEMA_REGISTRY_USERNAME: z.string().optional(),
    SCHEMA_REGISTRY_PASSWORD: z.string().optional(),
    /** ClickHouse server HTTP(S) URL. Unset: embedded ClickHouse (chDB). */
    CLICKHOUSE_URL: httpUrl.optional(),
    CLICKHOUSE_USERNAME: z.string().optional(),
    CLICKHOUSE_PASSWORD: z.string().optional(),
    CLICKHOUSE_DATABASE: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a database name of letters, digits and _')
      .default('audit'),
    /** Where embedded ClickHouse keeps its data when CLICKHOUSE_URL is unset. */
    CLICKHOUSE_EMBEDDED_PATH: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    if (env.KAFKA_SASL_MECHANISM && (!env.KAFKA_SASL_USERNAME || !env.KAFKA_SASL_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.KAFKA_SASL_USERNAME ? 'KAFKA_SASL_PASSWORD' : 'KAFKA_SASL_USERNAME'],
        message: `required when KAFKA_SASL_MECHANISM=${env.KAFKA_SASL_MECHANISM}`,
      })
    }
    if (!env.KAFKA_SASL_MECHANISM && (env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: ['KAFKA_SASL_MECHANISM'],
        message: `required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set; expected one of: ${saslMechanisms.join(', ')}`,
      })
    }
    if (Boolean(env.KAFKA_SSL_CERT_FILE) !== Boolean(env.KAFKA_SSL_KEY_FILE)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.KAFKA_SSL_CERT_FILE ? 'KAFKA_SSL_KEY_FILE' : 'KAFKA_SSL_CERT_FILE'],
        message: 'client certificate and key go together: set both or neither',
      })
    }
    if (Boolean(env.SCHEMA_REGISTRY_USERNAME) !== Boolean(env.SCHEMA_REGISTRY_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.SCHEMA_REGISTRY_USERNAME ? 'SCHEMA_REGISTRY_PASSWORD' : 'SCHEMA_REGISTRY_USERNAME'],
        message: 'username and password go together: set both or neither',
      })
    }
    if (env.CLICKHOUSE_URL && env.CLICKHOUSE_EMBEDDED_PATH) {
      ctx.addIssue({
        code: 'custom',
        path: ['CLICKHOUSE_EMBEDDED_PATH'],
        message: 'only used without CLICKHOUSE_URL: unset one of them',
      })
    }
  })

export type KafkaSettings = {
  brokers: string[]
  clientId: string
  ssl?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean }
  sasl?: { mechanism: (typeof saslMechanisms)[number]; username: string; password: string }
}

export type SchemaRegistrySettings = { url: string; username?: string; password?: string }

export type ClickHouseSettings =
  | { kind: 'http'; url: string; username?: string; password?: string; database: string }
  | { kind: 'embedded'; dataPath?: string; database: string }

/** Where the pipeline's infrastructure is. A part left unset is the local stack's to provide. */
export type ConnectionSettings = {
  kafka: Omit<KafkaSettings, 'brokers'> & { brokers?: string[] }
  schemaRegistry?: SchemaRegistrySettings
  clickhouse: ClickHouseSettings
}

/** Reads connection settings from `env`; throws ConfigError naming every bad variable. */
export function loadConnectionSettings(env: Record<string, string | undefined>): ConnectionSettings {
  const s = parseSettings(schema, env)
  const useSsl = s.KAFKA_SSL ?? Boolean(s.KAFKA_SSL_CA_FILE || s.KAFKA_SSL_CERT_FILE || s.KAFKA_SSL_KEY_FILE)
  return {
    kafka: {
      clientId: s.KAFKA_CLIENT_ID,
      ...(s.KAFKA_BROKERS && { brokers: s.KAFKA_BROKERS }),
      ...(useSsl && {
        ssl: {
          ...(s.KAFKA_SSL_CA_FILE && { ca: s.KAFKA_SSL_CA_FILE }),
          ...(s.KAFKA_SSL_CERT_FILE && { cert: s.KAFKA_SSL_CERT_FILE }),
          ...(s.KAFKA_SSL_KEY_FILE && { key: s.KAFKA_SSL_KEY_FILE }),
          rejectUnauthorized: s.KAFKA_SSL_REJECT_UNAUTHORIZED,
        },
      }),
      ...(s.KAFKA_SASL_MECHANISM && {
        sasl: {
          mechanism: s.KAFKA_SASL_MECHANISM,
          username: s.KAFKA_SASL_USERNAME ?? '',
          password: s.KAFKA_SASL_PASSWORD ?? '',
        },
      }),
    },
    ...(s.SCHEMA_REGISTRY_URL && {
      schemaRegistry: {
        url: s.SCHEMA_REGISTRY_URL,
        ...(s.SCHEMA_REGISTRY_USERNAME && {
          username: s.SCHEMA_REGISTRY_USERNAME,
          password: s.SCHEMA_REGISTRY_PASSWORD,
        }),
      },
    }),
    clickhouse: s.CLICKHOUSE_URL
      ? {
          kind: 'http',
          url: s.CLICKHOUSE_URL,
          database: s.CLICKHOUSE_DATABASE,
          ...(s.CLICKHOUSE_USERNAME && { username: s.CLICKHOUSE_USERNAME }),
          ...(s.CLICKHOUSE_PASSWORD && { password: s.CLICKHOUSE_PASSWORD }),
        }
      : {
          kind: 'embedded',
          database: s.CLICKHOUSE_DATABASE,
          ...(s.CLICKHOUSE_EMBEDDED_PATH && { dataPath: s.CLICKHOUSE_EMBEDDED_PATH }),
        },
  }
}
