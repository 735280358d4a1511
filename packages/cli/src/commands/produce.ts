import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { logLevel } from 'kafkajs'
import { kafkaConfigFor } from '@audit-pipeline/kafka'
import { createAuditProducer, defaultProducerTopic } from '@audit-pipeline/producer'
import type { Endpoints } from '../endpoints.js'
import { produceLines, type ProduceSummary } from '../produceLines.js'

export type ProduceOptions = { file: string; topic?: string }

/** `audit-pipeline produce`: NDJSON in the documented JSON form → validated, encoded, sent. */
export async function produceCommand(
  options: ProduceOptions,
  endpoints: Endpoints,
  io: { stdin: Readable; out: (line: string) => void; err: (line: string) => void },
): Promise<number> {
  const input = options.file === '-' ? io.stdin : await openFile(options.file)
  const audit = await createAuditProducer({
    // kafkajs logs retries it recovers from as errors; what fails reaches us as an exception. A
    // configuration rather than a client: the SDK sends from a thread of its own, while this one
    // reads and checks the file.
    kafka: kafkaConfigFor(
      { ...endpoints.settings.kafka, brokers: endpoints.brokers },
      { logLevel: logLevel.NOTHING },
    ),
    registry: new SchemaRegistry({ host: endpoints.registryUrl }),
    endpoints: { brokers: endpoints.brokers, registryUrl: endpoints.registryUrl },
    topic: options.topic ?? defaultProducerTopic,
    // Every event in the file carries its own tenant and source.
    defaults: { source: { service: 'audit-pipeline-cli' } },
  })
  const started = Date.now()
  let summary: ProduceSummary
  try {
    summary = await produceLines(input, (e) => audit.generic(e), {
      onProgress: (p) =>
        io.err(
          `  ${p.lines} lines: ${p.sent} sent, ${p.rejected} rejected${p.failed ? `, ${p.failed} failed` : ''} (${Math.round(p.sent / ((Date.now() - started) / 1000))} events/s)`,
        ),
    })
  } finally {
    await audit.close()
  }
  const seconds = (Date.now() - started) / 1000
  io.out(
    `sent ${summary.sent} event(s) to ${audit.topic} in ${seconds.toFixed(1)} s; rejected ${summary.rejected.length}${summary.failed.length ? `; failed ${summary.failed.length}` : ''}`,
  )
  for (const { line, reason } of summary.rejected) io.out(`  line ${line}: ${reason}`)
  for (const { line, reason } of summary.failed) io.out(`  line ${line}: not sent: ${reason}`)
  return summary.rejected.length > 0 || summary.failed.length > 0 ? 1 : 0
}

/** Opens the file before connecting to anything, so a wrong path fails at once. */
async function openFile(path: string): Promise<Readable> {
  const stream = createReadStream(path)
  try {
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new Error(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
  }
  return stream
}
