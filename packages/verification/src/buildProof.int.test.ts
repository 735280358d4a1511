import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it, onTestFinished } from 'vitest'
import { verifyInclusionProof } from '@audit-pipeline/integrity'
import { openTestStorage } from '../../../test/support/testStorage.js'
import { buildProof } from './buildProof.js'
import { writeTrail } from './testSupport/trailFixture.js'
import { VerificationError } from './verificationError.js'

const standaloneVerifier = join(
  import.meta.dirname,
  '..',
  '..',
  'integrity',
  'standalone',
  'verify-proof.mjs',
)
const run = promisify(execFile)

async function trail() {
  const opened = await openTestStorage()
  onTestFinished(() => opened.close())
  const startMs = Date.now() - 10 * 60_000
  const fixture = await writeTrail(opened.storage, opened.database, [
    { tenant: 'acme', chain: 'audit.normalized/0', length: 27, checkpointEvery: 10, startMs },
    { tenant: 'globex', chain: 'audit.normalized/0', length: 10, checkpointEvery: 5, startMs },
  ])
  const proof = (eventId: string, tenant?: string) =>
    buildProof({
      storage: opened.storage,
      database: opened.database,
      eventId,
      ...(tenant !== undefined && { tenant }),
    })
  return { ...opened, fixture, proof }
}

async function standalone(proofJson: string, keysJson: string): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'proof-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'proof.json'), proofJson)
  writeFileSync(join(dir, 'keys.json'), keysJson)
  try {
    const { stdout } = await run(process.execPath, [
      standaloneVerifier,
      join(dir, 'proof.json'),
      join(dir, 'keys.json'),
    ])
    return { code: 0, output: stdout }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, output: failed.stdout + failed.stderr }
  }
}

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    if (error instanceof VerificationError) return { code: error.code, message: error.message }
    throw error
  }
  throw new Error('expected a VerificationError')
}

describe('buildProof', () => {
  it('proves a stored event: the proof verifies here and with the standalone verifier, and not once a byte of the event changed', async () => {
    const { fixture, proof } = await trail()
    const event = fixture.chain('acme', 'audit.normalized/0').events[13]!
    const document = await proof(event.event_id)
    expect(document).toMatchObject({
      leaf_index: 3,
      tree_size: 10,
      entry: { seq: 13, event_id: event.event_id },
    })
    expect(document.checkpoint.checkpoint_seq).toBe(1)
    expect(verifyInclusionProof(document, fixture.keys)).toEqual({ ok: true })

    const text = `${JSON.stringify(document, null, 2)}\n`
    const verified = await standalone(text, fixture.publicKeysJson)
    expect(verified.code).toBe(0)
    expect(verified.output).toContain(
      `verified: event ${event.event_id} is entry 13 of acme audit.normalized/0`,
    )

    // One byte of the event: the actor's id, u-13 → u-12.
    const tampered = text.replace('"id": "u-13"', '"id": "u-12"')
    expect(tampered).not.toBe(text)
    const refused = await standalone(tampered, fixture.publicKeysJson)
    expect(refused.code).toBe(1)
    expect(refused.output).toContain('NOT VERIFIED')
    expect(verifyInclusionProof(JSON.parse(tampered) as typeof document, fixture.keys).ok).toBe(false)
  })

  it('says when an event is not yet covered by a checkpoint, and when one is due', async () => {
    const { fixture, proof } = await trail()
    const event = fixture.chain('acme', 'audit.normalized/0').events[25]!
    const error = await codeOf(proof(event.event_id))
    expect(error.code).toBe('NOT_YET_COVERED')
    expect(error.message).toContain('entry 25 of acme audit.normalized/0')
    expect(error.message).toContain('SINK_CHECKPOINT_INTERVAL_MS (60000 ms)')
  })

  it('names an id stored nowhere, an id that is no UUID, and an id of two tenants', async () => {
    const { fixture, proof, storage, database } = await trail()
    expect(await codeOf(proof('7f1c0e4a-0000-4000-8000-000000000000'))).toEqual({
      code: 'EVENT_NOT_FOUND',
      message: 'no event 7f1c0e4a-0000-4000-8000-000000000000 is stored',
    })
    expect((await codeOf(proof('not-an-id'))).code).toBe('EVENT_NOT_FOUND')

    const event = fixture.chain('acme', 'audit.normalized/0').events[2]!
    await storage.client.command({
      query: `INSERT INTO ${database}.audit_chain SELECT * REPLACE ('globex' AS tenant) FROM (SELECT * FROM ${database}.audit_chain WHERE event_id = '${event.event_id}')`,
    })
    const ambiguous = await codeOf(proof(event.event_id))
    expect(ambiguous).toEqual({
      code: 'EVENT_AMBIGUOUS',
      message: `event ${event.event_id} is recorded for more than one tenant (acme, globex): name one with --tenant`,
    })
    const chosen = await proof(event.event_id, 'acme')
    expect(verifyInclusionProof(chosen, fixture.keys)).toEqual({ ok: true })
  })

  it('refuses to prove an event changed after it was stored', async () => {
    const { fixture, proof, storage, database } = await trail()
    const event = fixture.chain('globex', 'audit.normalized/0').events[1]!
    await storage.client.command({
      query: `ALTER TABLE ${database}.audit_events UPDATE actor_id = 'u-mallory' WHERE event_id = '${event.event_id}'`,
      clickhouse_settings: { mutations_sync: '2' },
    })
    const error = await codeOf(proof(event.event_id))
    expect(error.code).toBe('TRAIL_CHANGED')
    expect(error.message).toContain('no longer has the content digest')
  })
})
