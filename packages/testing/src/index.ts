export { waitFor, type WaitForOptions } from './waitFor.js'
export { uniqueName } from './uniqueName.js'
export { createTestTopic } from './testTopic.js'
export { collectTopics, type CollectedMessage, type TopicCollector } from './topicCollector.js'
export { waitForCommittedToEnd } from './committedOffsets.js'
export type { StackEndpoints } from './stackEndpoints.js'
export {
  compareDelivery,
  type AcknowledgedEvent,
  type DeliveryReport,
  type ObservedEvent,
} from './deliveryOracle.js'
export { testSigningKeyFile } from './signingKeyFile.js'
