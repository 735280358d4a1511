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
export { partitionKeyFor } from './partitionKey.js'
export { ProducerError, producerErrorCodes, type ProducerErrorCode } from './producerError.js'
