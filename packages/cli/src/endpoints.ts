import { loadConnectionSettings, type ConnectionSettings } from '@audit-pipeline/config'
import { isStackRunning, readStackState } from '@audit-pipeline/stack-state'

export type Endpoints = {
  settings: ConnectionSettings
  brokers: string[]
  registryUrl: string
  /** Where the endpoints came from, for messages. */
  origin: 'environment' | 'local stack'
}

/**
 * Kafka and the registry from the environment, or else from the local stack running in
 * AUDIT_STACK_DIR (default .stack/), so `npm run stack` followed by the CLI just works.
 */
export function resolveEndpoints(env: NodeJS.ProcessEnv, stateDir: string): Endpoints {
  const settings = loadConnectionSettings(env)
  if (settings.kafka.brokers && settings.schemaRegistry) {
    return {
      settings,
      brokers: settings.kafka.brokers,
      registryUrl: settings.schemaRegistry.url,
      origin: 'environment',
    }
  }
  const stack = readStackState(stateDir)
  if (!stack || !isStackRunning(stack)) {
    const missing = [
      !settings.kafka.brokers && 'KAFKA_BROKERS',
      !settings.schemaRegistry && 'SCHEMA_REGISTRY_URL',
    ]
      .filter(Boolean)
      .join(' and ')
    throw new Error(
      `${missing} not set, and no local stack is running in ${stateDir}: set them, or start one with \`npm run stack\``,
    )
  }
  return {
    settings,
    brokers: settings.kafka.brokers ?? stack.kafka.brokers,
    registryUrl: settings.schemaRegistry?.url ?? stack.schemaRegistry.url,
    origin: 'local stack',
  }
}
