import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'

/** The registry client for connection settings as `@audit-pipeline/config` reads them. */
export function schemaRegistryClient(settings: {
  url: string
  username?: string
  password?: string
}): SchemaRegistry {
  return new SchemaRegistry({
    host: settings.url,
    ...(settings.username && { auth: { username: settings.username, password: settings.password ?? '' } }),
  })
}
