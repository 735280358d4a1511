import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import avro from 'avsc'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { writeWireHeader } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { auditEventContract, currentSchema } from '@audit-pipeline/schemas'
import { buildPackage } from '../../../../test/support/serviceProcess.js'
import { sampleEvent } from '../../../../packages/integrity/src/testSupport/auditEvents.js'
import { createContentDigests, type ContentDigests } from './contentDigests.js'

const type = avro.Type.forSchema(currentSchema(auditEventContract) as avro.Schema)
const encoded = (event: AuditEvent) => writeWireHeader(7, type.toBuffer(event))

/** A flush's worth of events, each other content: hostile text, many attributes, an actor on behalf. */
const flush: AuditEvent[] = Array.from({ length: 700 }, (_, i) => ({
  ...sampleEvent(i),
  ...(i % 3 === 0 && { on_behalf_of: { ...sampleEvent(i).actor, id: `helpdesk-${i}` } }),
  changes: [
    {
      path: `notes.${i}`,
      old_value: null,
      new_value: `"quoted" \\ ${'é'.repeat(i % 7)} \u{1f600}`,
      value_type: 'string',
    },
  ],
  attributes: Object.fromEntries(Array.from({ length: i % 25 }, (_, k) => [`key-${k}`, `value\n${k}`])),
}))

const opened: ContentDigests[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((digests) => digests.close()))
})

describe('content digests on the worker thread (the compiled service)', () => {
  // The worker runs the compiled package, as the service ships it.
  const workerScript = pathToFileURL(
    join(import.meta.dirname, '..', '..', 'dist', 'digests', 'digestThread.js'),
  )
  beforeAll(() => buildPackage('@audit-pipeline/normalizer'), 300_000)

  it('gives each event of a flush its content digest, in order, computed off this thread', async () => {
    const digests = createContentDigests({ workerScript })
    opened.push(digests)
    expect(digests.offThread).toBe(true)
    const values = flush.map(encoded)
    const expected = flush.map((event) => contentDigest(event))
    expect(new Set(expected).size).toBe(flush.length)
    expect(await digests.ofAll(values)).toEqual(expected)
    // The values are copied for the worker, not given away: the flush still sends them.
    expect(values.every((value) => value.byteLength > 0)).toBe(true)
    expect(digests.of(values[42]!)).toBe(expected[42])
    // Flushes side by side (partitions in flight) each get their own.
    const [a, b] = await Promise.all([digests.ofAll(values.slice(0, 300)), digests.ofAll(values.slice(300))])
    expect([...a, ...b]).toEqual(expected)
    expect(await digests.ofAll([])).toEqual([])
  })

  it('computes a flush on this thread when the worker fails, and says so; no digest goes missing', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'digest-worker-'))
    try {
      const failing = join(folder, 'failingDigestThread.mjs')
      writeFileSync(failing, "export default function () { throw new Error('the worker broke') }\n")
      const errors: unknown[] = []
      const digests = createContentDigests({
        workerScript: pathToFileURL(failing),
        onWorkerError: (error) => errors.push(error),
      })
      opened.push(digests)
      const values = flush.slice(0, 50).map(encoded)
      expect(await digests.ofAll(values)).toEqual(flush.slice(0, 50).map((event) => contentDigest(event)))
      expect(errors).toHaveLength(1)
      expect(String(errors[0])).toMatch(/the worker broke/)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })
})

describe('content digests without a compiled worker (the sources, as tests run them)', () => {
  it('computes them on this thread, alike', async () => {
    const digests = createContentDigests({
      workerScript: pathToFileURL(join(tmpdir(), 'no-such-digest-thread.js')),
    })
    opened.push(digests)
    expect(digests.offThread).toBe(false)
    const values = flush.slice(0, 20).map(encoded)
    expect(await digests.ofAll(values)).toEqual(flush.slice(0, 20).map((event) => contentDigest(event)))
  })
})
