import { parentPort, workerData } from 'node:worker_threads'
import { Kafka } from 'kafkajs'
import { ProducerError, type ProducerErrorCode } from '../producerError.js'
import { callerThreadSender } from './callerThreadSender.js'
import { unpackOutgoing } from './messagePack.js'
import type { SendThreadData, SendThreadReply, SendThreadRequest, ThreadError } from './threadMessages.js'

// The sending thread (workerThreadSender.ts starts it): the lanes' kafkajs producers live here,
// so building record batches, CRCs and socket writes leave the caller's thread.
const data = workerData as SendThreadData
const port = parentPort
if (!port) throw new Error('sendThread.js runs as a worker thread only')
const sender = callerThreadSender({
  kafka: new Kafka(data.config),
  topic: data.topic,
  lanes: data.lanes,
  ...(data.brokers && { brokers: data.brokers }),
})

const threadError = (error: unknown, otherwise: ProducerErrorCode): ThreadError =>
  error instanceof ProducerError
    ? { code: error.code, message: error.message, retriable: error.retriable }
    : { code: otherwise, message: error instanceof Error ? error.message : String(error), retriable: true }

const answer = (id: number, work: Promise<void>, otherwise: ProducerErrorCode) => {
  work.then(
    () => port.postMessage({ id, ok: true } satisfies SendThreadReply),
    (error: unknown) =>
      port.postMessage({ id, ok: false, error: threadError(error, otherwise) } satisfies SendThreadReply),
  )
}

port.on('message', (request: SendThreadRequest) => {
  switch (request.type) {
    case 'connect':
      answer(request.id, sender.connect(), 'BROKER_UNAVAILABLE')
      break
    case 'send':
      answer(
        request.id,
        Promise.resolve().then(() => sender.send(request.lane, unpackOutgoing(request.packed))),
        'SEND_FAILED',
      )
      break
    case 'disconnect':
      // The caller's thread ends this one once the producers are closed.
      answer(request.id, sender.disconnect(), 'SEND_FAILED')
      break
  }
})
