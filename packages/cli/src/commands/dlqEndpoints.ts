import { loadConnectionSettings } from '@audit-pipeline/config'
import { isStackRunning, readStackState } from '@audit-pipeline/stack-state'
import type { Endpoints } from '../endpoints.js'

/** What the dead-letter commands need: Kafka only. */
export type KafkaEndpoint = Pick<Endpoints, 'settings' | 'brokers'>

/**
 * Kafka from KAFKA_BROKERS, or else from the local stack running in `stateDir`. The same
 * resolution as `resolveEndpoints`, without its schema registry: the dead-letter commands never
 * decode events, so they work, and say what is missing, with Kafka alone.
 */
export function resolveKafkaEndpoint(env: NodeJS.ProcessEnv, stateDir: string): KafkaEndpoint {
  const settings = loadConnectionSettings(env)
  if (settings.kafka.brokers) return { settings, brokers: settings.kafka.brokers }
  const stack = readStackState(stateDir)
  if (!stack || !isStackRunning(stack)) {
    throw new Error(
      `KAFKA_BROKERS not set, and no local stack is running in ${stateDir}: set it, or start one with \`npm run stack\``,
    )
  }
  return { settings, brokers: stack.kafka.brokers }
}
