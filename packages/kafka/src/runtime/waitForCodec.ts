import {
  createAuditEventCodec,
  schemaRegistryClient,
  type AuditEventCodec,
  type AuditEventCodecOptions,
} from '@audit-pipeline/codec'
import type { Logger } from '@audit-pipeline/service-runtime'
import { registryOutage, type OutageSettings } from './consumerRuntime.js'
import { waitOutOutage } from './waitForKafka.js'

/**
 * A service's event codec, once the schema registry answers: a registry down at start-up is
 * waited out like Kafka is, so the service comes up with it. Readers pass `autoRegister: false`
 * (the schema is the producers' to register).
 */
export function waitForCodec(
  registry: Parameters<typeof schemaRegistryClient>[0],
  codec: Omit<AuditEventCodecOptions, 'registry'>,
  options: { log: Logger; outage?: OutageSettings },
): Promise<AuditEventCodec> {
  const client = schemaRegistryClient(registry)
  return waitOutOutage(registryOutage, () => createAuditEventCodec({ ...codec, registry: client }), options)
}
