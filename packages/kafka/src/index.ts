export {
  createKafka,
  kafkaConfigFor,
  kafkaLogsTo,
  type CreateKafkaOptions,
  type StructuredLogger,
} from './createKafka.js'
