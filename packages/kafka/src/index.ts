export { createKafka, kafkaConfigFor, type CreateKafkaOptions } from './createKafka.js'
