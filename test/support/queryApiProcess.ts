import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { uniqueName, type StackEndpoints } from '@audit-pipeline/testing'
import type { testKeys } from '../../services/query-api/src/testSupport/queryApiFixture.js'

type TestKey = (typeof testKeys)[keyof typeof testKeys]

/** A keys file of the test's own holding `keys` (only their secrets' SHA-256); its path. */
export function writeTestKeysFile(keys: readonly TestKey[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'query-api-keys-')), 'keys.json')
  const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex')
  writeFileSync(
    file,
    JSON.stringify({
      keys: keys.map((key) => ({
        id: key.id,
        secret_sha256: sha256(key.secret),
        role: key.role,
        ...(key.tenants !== 'all' && { tenants: key.tenants }),
      })),
    }),
  )
  return file
}

/**
 * The environment of a query API process of a test: the run's Kafka and registry, its own
 * database (on the run's server as the query API's own user, see serverAccess.ts, or in an
 * embedded data folder), keys file and access-record topic, any free ports.
 */
export function queryApiProcessEnv(options: {
  stack: StackEndpoints
  database: string
  dataPath: string
  serverUser: { username: string; password: string } | undefined
  keysFile: string
  accessTopic: string
}): Record<string, string> {
  const { stack, serverUser } = options
  return {
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    ...(stack.clickhouseUrl && serverUser
      ? {
          CLICKHOUSE_URL: stack.clickhouseUrl,
          CLICKHOUSE_USERNAME: serverUser.username,
          CLICKHOUSE_PASSWORD: serverUser.password,
        }
      : { CLICKHOUSE_EMBEDDED_PATH: options.dataPath }),
    CLICKHOUSE_DATABASE: options.database,
    QUERY_API_KEYS_FILE: options.keysFile,
    QUERY_API_PORT: '0',
    QUERY_API_AUDIT_TOPIC: options.accessTopic,
    OPS_PORT: '0',
  }
}

/** A fresh topic for a query API process's access records, on the run's broker; its name. */
export async function createAccessTopic(stack: StackEndpoints, prefix: string): Promise<string> {
  const topic = uniqueName(prefix)
  const kafka = new Kafka({ clientId: prefix, brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
  return topic
}
