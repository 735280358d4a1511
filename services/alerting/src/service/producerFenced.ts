import kafkajs from 'kafkajs'

// kafkajs is CommonJS: its error classes are read from the default export under Node's ESM.
const { KafkaJSProtocolError } = kafkajs

/**
 * The protocol errors with which a broker refuses a transactional producer whose transactional id
 * another producer initialised since. kafkajs speaks request versions older than PRODUCER_FENCED
 * (code 90, KIP-588), for which brokers answer INVALID_PRODUCER_EPOCH (47) instead (verified
 * against Apache Kafka 4.x); PRODUCER_FENCED is listed for a client that knows it.
 */
const fencedTypes: ReadonlySet<string> = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED'])

/**
 * Whether a transaction failed because this producer was fenced: another instance took the
 * transactional id (or the broker expired the transaction, which it reports the same way). Such
 * a producer must not retry: initialising a new one would fence the new owner in turn.
 */
export function isProducerFenced(error: unknown): boolean {
  let current = error
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current instanceof KafkaJSProtocolError && fencedTypes.has(current.type)) return true
    current = current.cause
  }
  return false
}
