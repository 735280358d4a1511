import { randomBytes } from 'node:crypto'

/**
 * A name no other test run uses, valid as a Kafka topic, consumer group, schema subject and
 * ClickHouse database name (letters, digits and underscores only).
 */
export function uniqueName(prefix: string): string {
  const safePrefix = prefix.replace(/[^A-Za-z0-9_]/g, '_')
  return `${safePrefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
}
