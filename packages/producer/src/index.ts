export {
  createAuditProducer,
  defaultProducerTopic,
  type AuditProducer,
  type AuditProducerOptions,
} from './auditProducer.js'
export {
  createEventBuilder,
  type ActorInput,
  type EventBuilder,
  type EventContext,
  type EventDefaults,
  type ObjectInput,
} from './eventBuilder.js'
export { createBatcher, type Batcher, type BatcherOptions } from './batcher.js'
export { type EncryptionOptions } from './sourceProtection.js'
// The key moved to the event model, which every service shares; kept here for the SDK's users.
export { partitionKeyFor } from '@audit-pipeline/event-model'
export { ProducerError, producerErrorCodes, type ProducerErrorCode } from './producerError.js'
