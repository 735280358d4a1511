import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, inject, it } from 'vitest'
import { buildMainJob } from '../support/serviceProcess.js'
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.js'
import { expectNothingLost, runDeliveryDrill } from './support/deliveryDrill.js'

/**
 * ClickHouse unreachable for 60 s, through a proxy the drill cuts. Embedded ClickHouse lives in
 * the sink's own process and cannot be unreachable, so the drill needs a server: it runs when
 * CLICKHOUSE_URL is set (no server can be obtained on the machines this suite was written on).
 */
const clickhouseUrl = process.env['CLICKHOUSE_URL']
const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'fault-clickhouse',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})

describe.skipIf(!clickhouseUrl)('ClickHouse unreachable', () => {
  let proxy: TcpProxy
  beforeAll(async () => {
    buildMainJob()
    const server = new URL(clickhouseUrl!)
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 8123) })
  }, 300_000)
  afterAll(() => proxy?.close())

  it(
    'cut for 60 s mid-stream: the sink holds its batch, is not ready, and stores every event once when it is back',
    { timeout: 600_000 },
    async () => {
      const server = new URL(clickhouseUrl!)
      const serviceUrl = new URL(clickhouseUrl!)
      serviceUrl.host = `127.0.0.1:${proxy.port}`
      const result = await runDeliveryDrill({
        fault: 'ClickHouse unreachable 60 s (proxy cut)',
        stack,
        kafka,
        goodEvents: 20_000,
        clickhouse: { url: server.toString(), serviceUrl: serviceUrl.toString() },
        inject: async () => {
          await proxy.cut()
          await new Promise((resolve) => setTimeout(resolve, 60_000)) // the outage itself, not a wait for a condition
          await proxy.restore()
        },
      })
      expectNothingLost(result)
    },
  )
})
