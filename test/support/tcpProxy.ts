import { createServer, connect, type Server, type Socket } from 'node:net'
import { once } from 'node:events'

/** A loopback TCP proxy a fault drill cuts: while cut, connections are refused and open ones dropped. */
export type TcpProxy = {
  /** `http://127.0.0.1:<port>`: the address the services are given. */
  readonly url: string
  readonly port: number
  /** Drops every open connection and stops listening: the target looks down. */
  cut(): Promise<void>
  /** Listens again on the same port. */
  restore(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  const listen = async (port: number): Promise<Server> => {
    const server = createServer((client) => {
      const upstream = connect(target.port, target.host)
      track(client)
      track(upstream)
      client.pipe(upstream).pipe(client)
      client.on('error', () => upstream.destroy())
      upstream.on('error', () => client.destroy())
    })
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    return server
  }
  let server: Server | undefined = await listen(0)
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port')
  const { port } = address
  const stop = async () => {
    const closing = server
    server = undefined
    if (!closing) return
    const closed = new Promise((resolve) => closing.close(resolve))
    for (const socket of sockets) socket.destroy()
    await closed
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    cut: stop,
    async restore() {
      server ??= await listen(port)
    },
    close: stop,
  }
}
