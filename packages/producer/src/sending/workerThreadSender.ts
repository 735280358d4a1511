import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { KafkaConfig } from 'kafkajs'
import { ProducerError } from '../producerError.js'
import { packOutgoing } from './messagePack.js'
import type { Outgoing } from './outgoing.js'
import type { Sender } from './sender.js'
import type { SendThreadData, SendThreadReply, SendThreadRequest } from './threadMessages.js'

export const defaultSendThreadScript = new URL('./sendThread.js', import.meta.url)

export type WorkerThreadSenderOptions = {
  /** The kafkajs configuration the sending thread makes its clients from: plain data. */
  config: KafkaConfig
  topic: string
  lanes: number
  brokers?: string[]
  script?: URL
}

/** Whether the sending thread's script exists: not when running from the TypeScript sources. */
export const sendThreadAvailable = (script: URL = defaultSendThreadScript) =>
  existsSync(fileURLToPath(script))

/**
 * Sends from a thread of its own: each batch crosses as one transferred buffer (messagePack.ts)
 * and the thread's lanes send it as callerThreadSender does there. Should the thread die, every
 * batch it held is rejected (SEND_FAILED: not known to be recorded, as after a timeout) and the
 * next send starts a new thread.
 */
export function workerThreadSender(options: WorkerThreadSenderOptions): Sender {
  const data: SendThreadData = {
    config: options.config,
    topic: options.topic,
    lanes: options.lanes,
    ...(options.brokers && { brokers: options.brokers }),
  }
  try {
    structuredClone(data)
  } catch (error) {
    // A function (an OAUTHBEARER provider, a socket factory, a log creator) cannot cross threads.
    throw new TypeError(
      `kafka: this configuration cannot go to the sending thread (${(error as Error).message}); ` +
        `give a kafkajs Kafka client instead, to send from the caller's thread, or sendFrom: 'caller'`,
      { cause: error },
    )
  }
  const script = options.script ?? defaultSendThreadScript
  type Pending = { resolve(): void; reject(error: unknown): void }
  type Thread = { worker: Worker; pending: Map<number, Pending>; connected: Promise<void> }
  let thread: Thread | undefined
  let nextId = 0
  let closed = false

  const request = (current: Thread, message: SendThreadRequest, transfer: ArrayBuffer[] = []) =>
    new Promise<void>((resolve, reject) => {
      current.pending.set(message.id, { resolve, reject })
      current.worker.postMessage(message, transfer)
    })

  const start = (): Thread => {
    const worker = new Worker(script, { workerData: data })
    const pending = new Map<number, Pending>()
    const current: Thread = { worker, pending, connected: Promise.resolve() }
    const failAll = (why: string) => {
      if (thread === current) thread = undefined
      const error = new ProducerError('SEND_FAILED', `the sending thread stopped: ${why}`, true)
      for (const waiting of pending.values()) waiting.reject(error)
      pending.clear()
    }
    worker.on('message', (reply: SendThreadReply) => {
      const waiting = pending.get(reply.id)
      if (!waiting) return
      pending.delete(reply.id)
      if (reply.ok) waiting.resolve()
      else waiting.reject(new ProducerError(reply.error.code, reply.error.message, reply.error.retriable))
    })
    worker.on('error', (error) => failAll(error.message))
    worker.on('exit', (code) => failAll(`it exited with code ${code}`))
    current.connected = request(current, { type: 'connect', id: nextId++ })
    return current
  }

  /** The running thread, connected; a new one after the last died. */
  const connected = async (): Promise<Thread> => {
    if (closed) throw new ProducerError('CLOSED', 'the audit producer is closed', false)
    const current = (thread ??= start())
    try {
      await current.connected
    } catch (error) {
      if (thread === current) thread = undefined
      await current.worker.terminate()
      throw error
    }
    return current
  }

  return {
    lanes: options.lanes,
    thread: 'worker',
    connect: async () => void (await connected()),
    async send(lane, batch: readonly Outgoing[]) {
      const current = await connected()
      const packed = packOutgoing(batch)
      await request(current, { type: 'send', id: nextId++, lane, packed }, [packed])
    },
    async disconnect() {
      closed = true
      const current = thread
      thread = undefined
      if (!current) return
      await request(current, { type: 'disconnect', id: nextId++ }).catch(() => undefined)
      await current.worker.terminate()
    },
  }
}
