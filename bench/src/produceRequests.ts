import type { Kafka, Producer } from 'kafkajs'

/** Produce requests sent, from kafkajs's instrumentation events; updated as they are answered. */
export type ProduceRequests = {
  count: number
  /** From sent to answered (acks=all: written by every in-sync replica), summed, ms. */
  inFlightMs: number
  /** Waiting in the client for the broker connection's in-flight slot before being sent, summed, ms. */
  queuedMs: number
}

/** Counts the produce requests of `producer`. */
export function watchProduceRequests(producer: Producer): ProduceRequests {
  const requests = { count: 0, inFlightMs: 0, queuedMs: 0 }
  tally(producer, requests)
  return requests
}

/**
 * Counts the produce requests of every producer `kafka` builds from now on: the normalizer
 * creates its producer itself, so the bench watches it through the Kafka object it hands over.
 */
export function watchProducersOf(kafka: Kafka): ProduceRequests {
  const requests = { count: 0, inFlightMs: 0, queuedMs: 0 }
  const producerOf = kafka.producer.bind(kafka)
  kafka.producer = (config) => {
    const producer = producerOf(config)
    tally(producer, requests)
    return producer
  }
  return requests
}

function tally(producer: Producer, requests: ProduceRequests): void {
  producer.on(producer.events.REQUEST, ({ payload }) => {
    if (payload.apiName !== 'Produce') return
    requests.count++
    requests.inFlightMs += payload.duration
    requests.queuedMs += payload.pendingDuration
  })
}
