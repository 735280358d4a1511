import type { Producer } from 'kafkajs'
import type { Logger } from '@audit-pipeline/service-runtime'

/** The producer calls the services make: connect once, send, and disconnect on stop. */
export type RenewingProducer = Pick<Producer, 'send' | 'sendBatch'> & {
  connect(): Promise<void>
  disconnect(): Promise<void>
}

/**
 * A producer that is replaced after a failed send. kafkajs's idempotent producer keeps a sequence
 * number per partition that a failed request leaves out of step with the broker's: after a leader
 * moved or a broker died mid-send, every later send is refused with OUT_OF_ORDER_SEQUENCE_NUMBER,
 * for ever. A new producer gets a new producer id and starts its sequences again, so the runtime's
 * restart from the last commit sends what was not acknowledged, and goes on.
 */
export function renewingProducer(
  create: () => Producer,
  log: Pick<Logger, 'warn' | 'debug'>,
): RenewingProducer {
  let connecting: Promise<Producer> | undefined

  const current = (): Promise<Producer> => {
    connecting ??= (async () => {
      const producer = create()
      await producer.connect()
      return producer
    })()
    const attempt = connecting
    attempt.catch(() => {
      if (connecting === attempt) connecting = undefined
    })
    return attempt
  }

  /** Drops `failed` if it is still the current producer: the next send connects a new one. */
  const renew = async (failed: Producer, error: unknown) => {
    const held = connecting
    if (!held || (await held.catch(() => undefined)) !== failed) return
    connecting = undefined
    log.warn({ err: error }, 'a send failed: the next send uses a new producer')
    await failed
      .disconnect()
      .catch((disconnectError: unknown) => log.debug({ err: disconnectError }, 'disconnect failed'))
  }

  const sending =
    <A, R>(call: (producer: Producer, args: A) => Promise<R>) =>
    async (args: A): Promise<R> => {
      const producer = await current()
      try {
        return await call(producer, args)
      } catch (error) {
        await renew(producer, error)
        throw error
      }
    }

  return {
    connect: async () => void (await current()),
    send: sending((producer, record: Parameters<Producer['send']>[0]) => producer.send(record)),
    sendBatch: sending((producer, batch: Parameters<Producer['sendBatch']>[0]) => producer.sendBatch(batch)),
    async disconnect() {
      const held = connecting
      connecting = undefined
      const producer = await held?.catch(() => undefined)
      await producer?.disconnect()
    },
  }
}
