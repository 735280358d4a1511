export {
  createKafka,
  kafkaConfigFor,
  kafkaLogsTo,
  type CreateKafkaOptions,
  type StructuredLogger,
} from './createKafka.js'
export { chunksOfBytes, recordBytes } from './chunksOfBytes.js'
export * from './runtime/index.js'
