import { once } from 'node:events'
import { connect, createServer, type AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startTcpProxy } from './tcpProxy.js'

/** One round trip through `port`: resolves with the echoed text, rejects when the connection fails. */
async function echoThrough(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  try {
    await once(socket, 'connect')
    socket.write(text)
    const [data] = (await once(socket, 'data')) as [Buffer]
    return data.toString()
  } finally {
    socket.destroy()
  }
}

describe('the drills’ TCP proxy', () => {
  it('passes traffic, refuses it while cut, and passes it again on the same port once restored', async () => {
    const echo = createServer((socket) => socket.pipe(socket))
    echo.listen(0, '127.0.0.1')
    await once(echo, 'listening')
    onTestFinished(() => void echo.close())
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port })
    onTestFinished(() => proxy.close())

    expect(await echoThrough(proxy.port, 'before')).toBe('before')
    // A connection open across the cut is dropped, as a real outage drops it.
    const open = connect(proxy.port, '127.0.0.1')
    await once(open, 'connect')
    const closed = once(open, 'close')
    await proxy.cut()
    await closed
    await expect(echoThrough(proxy.port, 'during')).rejects.toThrow(/ECONNREFUSED/)
    await proxy.restore()
    expect(await echoThrough(proxy.port, 'after')).toBe('after')
  })
})
