import kafkajs from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { isProducerFenced } from './producerFenced.js'

const { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError } = kafkajs

/** A protocol error as kafkajs builds it from a broker's error code. */
const protocolError = (type: string, code: number, retriable = false) =>
  new KafkaJSProtocolError(Object.assign(new Error(`${type} from the broker`), { type, code, retriable }))

describe('isProducerFenced', () => {
  it('knows the broker refusing an old producer epoch, also when kafkajs wrapped it', () => {
    const fenced = protocolError('INVALID_PRODUCER_EPOCH', 47)
    expect(isProducerFenced(fenced)).toBe(true)
    expect(isProducerFenced(Object.assign(new KafkaJSNonRetriableError(fenced), { cause: fenced }))).toBe(
      true,
    )
    expect(isProducerFenced(protocolError('PRODUCER_FENCED', 90))).toBe(true)
  })

  it('does not take a transient failure for fencing: those restart from the last commit', () => {
    expect(isProducerFenced(protocolError('NOT_COORDINATOR', 16, true))).toBe(false)
    expect(isProducerFenced(protocolError('CONCURRENT_TRANSACTIONS', 51, true))).toBe(false)
    expect(isProducerFenced(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'))).toBe(false)
    // Classified by class and type, never by the message's words.
    expect(isProducerFenced(new Error('INVALID_PRODUCER_EPOCH'))).toBe(false)
    expect(isProducerFenced(undefined)).toBe(false)
  })
})
