export { adaptMessage, type AdaptedMessage, type Detection } from './adaptMessage.js'
export { auditJsonAdapter } from './auditJsonAdapter.js'
export { cloudEventsAdapter, cloudEventsBatchType, cloudEventsStructuredType } from './cloudEventsAdapter.js'
export { createDebeziumAdapter, debeziumOperations, sourcePositionFields } from './debeziumAdapter.js'
export type { DebeziumAdapterConfig, DebeziumTableConfig } from './debeziumConfig.js'
export { eventIdNamespaces, uuidV5 } from './deterministicEventId.js'
export {
  inputFormatHeader,
  skipReasons,
  type AdapterInput,
  type AdapterOutcome,
  type InputAdapter,
  type SkipReason,
} from './inputAdapter.js'
export type { InputMessage, MessageHeaders } from './inputMessage.js'
export {
  AdapterConfigError,
  InputRejectedError,
  inputRejectionReasons,
  type InputRejectionReason,
} from './inputRejectedError.js'
