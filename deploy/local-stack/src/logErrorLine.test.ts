import { describe, expect, it } from 'vitest'
import { lastErrorLine } from './logErrorLine.js'

describe('lastErrorLine', () => {
  it("shows a service's last pino error as its message and its error's message", () => {
    const log = [
      '{"level":"error","msg":"commit failed","err":{"message":"early"}}',
      '{"level":"fatal","service":"alerting","msg":"giving up","err":{"type":"KafkaJSNumberOfRetriesExceeded","message":"Connection error: connect ECONNREFUSED 127.0.0.1:9092"}}',
      '{"level":"info","msg":"stopped"}',
      '',
    ].join('\n')
    expect(lastErrorLine(log)).toBe('giving up: Connection error: connect ECONNREFUSED 127.0.0.1:9092')
  })

  it("takes the error from a kafkajs line's own object", () => {
    const log =
      '{"level":"error","component":"kafkajs","kafkajs":{"broker":"127.0.0.1:1","error":"The group coordinator is not available"},"msg":"Response GroupCoordinator(key: 10, version: 2)"}'
    expect(lastErrorLine(log)).toBe(
      'Response GroupCoordinator(key: 10, version: 2): The group coordinator is not available',
    )
  })

  it("skips a Node crash's stack frames for the line that names the error", () => {
    const log = [
      'file:///app/dist/main.js:10',
      '    throw new TypeError("boom")',
      '    ^',
      '',
      'TypeError: boom',
      '    at main (file:///app/dist/main.js:10:11)',
      '    at node:internal/main:1:1',
      '',
      'Node.js v20.19.0',
    ].join('\n')
    expect(lastErrorLine(log)).toBe('TypeError: boom')
  })

  it("finds a JVM's log4j error and a Java exception", () => {
    expect(
      lastErrorLine(
        '[2025-01-01 00:00:00,000] INFO ok\n[2025-01-01 00:00:01,000] ERROR [KafkaServer id=1] Fatal error\n',
      ),
    ).toBe('[2025-01-01 00:00:01,000] ERROR [KafkaServer id=1] Fatal error')
    expect(
      lastErrorLine('java.lang.OutOfMemoryError: Java heap space\n\tat java.base/Foo.bar(Foo.java:1)\n'),
    ).toBe('java.lang.OutOfMemoryError: Java heap space')
  })

  it('is undefined when nothing in the log reads as an error', () => {
    expect(lastErrorLine('{"level":"info","msg":"ready"}\nstarted\n')).toBeUndefined()
    expect(lastErrorLine('')).toBeUndefined()
  })

  it('shortens a long line', () => {
    const line = lastErrorLine(`ERROR ${'x'.repeat(1_000)}`)!
    expect(line).toHaveLength(300)
    expect(line.endsWith('…')).toBe(true)
  })
})
