import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { guardedLookup, type ResolveAll } from '@audit-pipeline/outbound'
import { DeliveryError } from '../delivery/deliveryError.js'
import { networkFailure } from '../delivery/httpOutcome.js'
import type { SyslogDestination } from '../destinations/destination.js'
import type { Transport } from './transport.js'

/**
 * Writes batches of octet-counted RFC 5424 messages to one TCP (or TLS) connection, opened on
 * first use and again after any error. Syslog has no acknowledgement: a batch counts as delivered
 * once the kernel took all of it; a connection that breaks later can lose what was in flight, the
 * limit of the protocol (RFC 5424 over TCP), which the README states.
 */
export function createSyslogTransport(
  destination: SyslogDestination,
  options: { resolve?: ResolveAll } = {},
): Transport {
  let socket: Socket | undefined
  const lookup = guardedLookup(destination.outbound, options.resolve)

  const open = (signal: AbortSignal) =>
    new Promise<Socket>((resolve, reject) => {
      const common = { host: destination.host, port: destination.port, lookup }
      const created = destination.tls
        ? tlsConnect({
            ...common,
            servername: destination.host,
            rejectUnauthorized: destination.tls.verify,
            ...(destination.tls.ca !== undefined && { ca: destination.tls.ca }),
          })
        : netConnect(common)
      const timer = setTimeout(() => {
        created.destroy(
          Object.assign(new Error(`no connection within ${destination.timeouts.connectMs} ms`), {
            code: 'UND_ERR_CONNECT_TIMEOUT',
          }),
        )
      }, destination.timeouts.connectMs)
      const onAbort = () => created.destroy(new Error('stopped'))
      signal.addEventListener('abort', onAbort, { once: true })
      const settle = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      }
      created.once('error', (error: Error) => {
        settle()
        reject(error)
      })
      created.once(destination.tls ? 'secureConnect' : 'connect', () => {
        settle()
        created.removeAllListeners('error')
        // An error while idle (the receiver went away) only means the next batch reconnects.
        created.on('error', () => created.destroy())
        created.once('close', () => {
          if (socket === created) socket = undefined
        })
        created.setKeepAlive(true)
        resolve(created)
      })
    })

  const write = (target: Socket, body: Buffer, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        target.off('close', onClose)
        if (error) reject(error)
        else resolve()
      }
      const timer = setTimeout(() => {
        target.destroy()
        settle(
          new DeliveryError(
            'DESTINATION_UNAVAILABLE',
            `the receiver took no data for ${destination.timeouts.responseMs} ms`,
            { reason: 'RESPONSE_TIMEOUT' },
          ),
        )
      }, destination.timeouts.responseMs)
      const onAbort = () => target.destroy(new Error('stopped'))
      const onClose = () =>
        settle(
          new DeliveryError('DESTINATION_UNAVAILABLE', 'the connection closed while writing', {
            reason: 'CONNECTION_RESET',
          }),
        )
      signal.addEventListener('abort', onAbort, { once: true })
      target.once('close', onClose)
      target.write(body, (error) => settle(error ?? undefined))
    })

  return {
    async send(batch, signal) {
      try {
        socket ??= await open(signal)
        await write(socket, batch.body, signal)
      } catch (error) {
        socket?.destroy()
        socket = undefined
        throw networkFailure(error)
      }
    },
    async close() {
      const current = socket
      socket = undefined
      if (!current || current.destroyed) return
      await new Promise<void>((resolve) => {
        current.once('close', () => resolve())
        current.end()
        setTimeout(() => current.destroy(), 1000).unref()
      })
    },
  }
}
