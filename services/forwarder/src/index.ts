// The forwarder as a library: configuration, destinations, the service and its metrics, for tests
// and the bench. The process is main.ts.
export { loadForwarderConfig, destinationTopics, forwarderOpsPort, type ForwarderConfig } from './config.js'
export { createForwarder, ForwarderStartError, type Forwarder, type ForwarderOptions } from './forwarder.js'
export { createForwarderMetrics, type ForwarderMetrics } from './metrics.js'
export {
  parseDestinations,
  payloadHeader,
  type DestinationsSource,
} from './destinations/parseDestinations.js'
export { loadDestinations } from './destinations/loadDestinations.js'
export { DestinationsConfigError, type DestinationsProblem } from './destinations/destinationsConfigError.js'
export type {
  Destination,
  DestinationInput,
  DestinationKind,
  HttpDestination,
  SyslogDestination,
} from './destinations/destination.js'
export { DeliveryError, deliveryErrorCodes, type DeliveryErrorCode } from './delivery/deliveryError.js'
export { createHttpTransport } from './senders/httpTransport.js'
export { createSyslogTransport } from './senders/syslogTransport.js'
export type { Transport } from './senders/transport.js'
export type { ResolveAll } from '@audit-pipeline/outbound'
export { webhookSignatureHeaders } from './format/webhookSignature.js'
export { syslogStructuredDataId } from './format/eventFormats.js'
