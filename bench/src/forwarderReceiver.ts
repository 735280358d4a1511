import { Worker } from 'node:worker_threads'

export type BenchReceiver = {
  url: string
  /** Events received so far (distinct event ids). */
  received(): number
  /** Events received so far, repeats included. */
  receivedAll(): number
  /** Requests answered so far. */
  requests(): number
  close(): Promise<void>
}

/**
 * The receiver runs in a worker thread, so parsing what arrives does not take the forwarder's
 * event loop: it stands for a webhook endpoint on another machine. It counts the events in
 * JSON-array bodies, all and distinct by event id, into shared memory the bench reads.
 */
const receiverSource = `
const { createServer } = require('node:http')
const { parentPort, workerData } = require('node:worker_threads')
const counters = new Int32Array(workerData.counters)
const seen = new Set()
const server = createServer((request, response) => {
  const chunks = []
  request.on('data', (chunk) => chunks.push(chunk))
  request.on('end', () => {
    for (const event of JSON.parse(Buffer.concat(chunks).toString('utf8'))) {
      Atomics.add(counters, 2, 1)
      if (!seen.has(event.event_id)) {
        seen.add(event.event_id)
        Atomics.add(counters, 0, 1)
      }
    }
    Atomics.add(counters, 1, 1)
    response.writeHead(200).end()
  })
})
server.keepAliveTimeout = 60000
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port))
parentPort.on('message', () => server.close(() => process.exit(0)))
`

export async function startBenchReceiver(): Promise<BenchReceiver> {
  const shared = new SharedArrayBuffer(12)
  const counters = new Int32Array(shared)
  const worker = new Worker(receiverSource, { eval: true, workerData: { counters: shared } })
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (value: number) => resolve(value))
    worker.once('error', reject)
  })
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => Atomics.load(counters, 0),
    requests: () => Atomics.load(counters, 1),
    receivedAll: () => Atomics.load(counters, 2),
    close: async () => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      worker.postMessage('close')
      await exited
    },
  }
}
