import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { defaultRetentionPolicy } from '@audit-pipeline/clickhouse-schema'
import { openStorage, type Storage, type StorageConfig } from '@audit-pipeline/storage'
import { uniqueName } from '@audit-pipeline/testing'
import { VerificationError } from '@audit-pipeline/verification'
import { buildPackage } from '../../../../test/support/serviceProcess.js'
import { openTestStorage } from '../../../../test/support/testStorage.js'
import {
  fixtureSpecs,
  mutation,
  tamperings,
  testGraceMs,
} from '../../../verification/src/testSupport/tamperings.js'
import { writeTrail, type TrailFixture } from '../../../verification/src/testSupport/trailFixture.js'
import { proofCommand } from './proof.js'
import type { TrailStorage } from './trailStorage.js'
import { verifyCommand } from './verify.js'
import { parseVerifyFlags } from './verifyOptions.js'

const root = join(import.meta.dirname, '..', '..', '..', '..')
const cli = join(root, 'packages', 'cli', 'bin', 'audit-pipeline.js')
const standaloneVerifier = join(root, 'packages', 'integrity', 'standalone', 'verify-proof.mjs')
const run = promisify(execFile)

/** Runs a script with node; its exit code and output, whatever the code. */
async function node(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

function captured() {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } }
}

const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-verify-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function trail() {
  const opened = await openTestStorage()
  onTestFinished(() => opened.close())
  const fixture = await writeTrail(opened.storage, opened.database, fixtureSpecs(Date.now()))
  const target: TrailStorage = {
    config: { kind: 'embedded', dataPath: 'test' },
    database: opened.database,
    origin: 'the test',
  }
  // The command closes what it opens: it gets a storage whose close leaves the test's open.
  const openShared = (): Promise<Storage> =>
    Promise.resolve({ ...opened.storage, close: () => Promise.resolve() })
  return { ...opened, fixture, target, openShared }
}

async function verifyWith(
  context: Awaited<ReturnType<typeof trail>>,
  options: { nowMs?: number; external?: TrailFixture['chains'][number]['checkpoints'] } = {},
) {
  const { out, err, io } = captured()
  const flags = {
    publicKeys: 'keys.json',
    ...(options.external !== undefined && { checkpointsTopic: 'audit.checkpoints' }),
  }
  const code = await verifyCommand(
    { ...parseVerifyFlags(flags, {}, { path: 'none', exists: false }, '/'), checkpointGraceMs: testGraceMs },
    context.target,
    defaultRetentionPolicy,
    {
      openStorage: context.openShared,
      readFile: () => context.fixture.publicKeysJson,
      readCheckpoints: () => Promise.resolve(options.external ?? []),
      nowMs: () => options.nowMs ?? context.fixture.lastStoredAtMs + 1_000,
    },
    io,
  )
  return { code, out, err }
}

describe('audit-pipeline verify', () => {
  it.each(tamperings)(
    'exits 0 on the intact trail, then 1 naming the finding after $name',
    async (tampering) => {
      const context = await trail()
      const intact = await verifyWith(context)
      expect(intact.code).toBe(0)
      expect(intact.out).toContain('INTACT: no findings.')

      const done = await tampering.apply(context.storage, context.database, context.fixture)
      const { code, out } = await verifyWith(context, {
        ...(done.nowMs !== undefined && { nowMs: done.nowMs }),
        ...(done.externalCheckpoints !== undefined && { external: done.externalCheckpoints }),
      })
      expect(code).toBe(1)
      expect(out).toContain('NOT INTACT: 1 finding.')
      const row = out.find((line) => line.startsWith(done.finding.kind))
      expect(row).toBeDefined()
      const named = [
        done.finding.tenant,
        done.finding.chain,
        done.finding.seq,
        done.finding.checkpoint_seq,
        done.finding.event_id,
      ]
      for (const part of named) if (part !== undefined) expect(row).toContain(String(part))
    },
  )

  it('prints the report as JSON with --json, and exits 2 naming the problem when it cannot run', async () => {
    const context = await trail()
    const { out, io } = captured()
    const options = {
      ...parseVerifyFlags({ publicKeys: 'keys.json', json: true }, {}, { path: 'none', exists: false }, '/'),
    }
    const deps = {
      openStorage: context.openShared,
      readFile: () => context.fixture.publicKeysJson,
      readCheckpoints: () => Promise.reject(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1')),
      nowMs: () => context.fixture.lastStoredAtMs + 1_000,
    }
    expect(await verifyCommand(options, context.target, defaultRetentionPolicy, deps, io)).toBe(0)
    expect(JSON.parse(out.join('\n'))).toMatchObject({
      intact: true,
      totals: { chains: 3, entries: 100, events: 100 },
    })

    // (main.ts turns what the command throws into exit 2 and prints the message.)
    await expect(
      verifyCommand(
        options,
        context.target,
        defaultRetentionPolicy,
        { ...deps, readFile: () => '{"keys": []}' },
        io,
      ),
    ).rejects.toThrow('/keys.json: lists no keys')
    await expect(
      verifyCommand(
        { ...options, checkpointTopic: { topic: 'audit.checkpoints' } },
        context.target,
        defaultRetentionPolicy,
        deps,
        io,
      ),
    ).rejects.toThrow(
      'could not read the checkpoints topic audit.checkpoints: Connection error: connect ECONNREFUSED',
    )
    await expect(
      verifyCommand(
        options,
        { ...context.target, database: 'nowhere_at_all' },
        defaultRetentionPolicy,
        deps,
        io,
      ),
    ).rejects.toThrow('database nowhere_at_all')
  })
})

describe('audit-pipeline proof', () => {
  it('writes a proof the standalone verifier accepts, and refuses once a byte of the event changed', async () => {
    const context = await trail()
    const dir = scratch()
    const keysFile = join(dir, 'keys.json')
    writeFileSync(keysFile, context.fixture.publicKeysJson)
    const event = context.fixture.chain('acme', 'audit.normalized/1').events[4]!
    const out = join(dir, 'proof.json')
    const { out: lines, io } = captured()
    const code = await proofCommand(
      { eventId: event.event_id, out, checkpointIntervalMs: 60_000 },
      context.target,
      { openStorage: context.openShared, writeFile: (path, text) => writeFileSync(path, text) },
      io,
    )
    expect(code).toBe(0)
    expect(lines[0]).toBe(
      `Wrote the proof to ${out}: event ${event.event_id} is entry 4 of acme audit.normalized/1, covered by checkpoint 0 signed by ${context.fixture.key.keyId}.`,
    )
    const verified = await node([standaloneVerifier, out, keysFile])
    expect(verified).toMatchObject({ code: 0 })
    expect(verified.stdout).toContain(`verified: event ${event.event_id} is entry 4`)

    const text = readFileSync(out, 'utf8')
    writeFileSync(out, text.replace('"request_id": "req-4"', '"request_id": "req-5"'))
    expect(readFileSync(out, 'utf8')).not.toBe(text)
    const refused = await node([standaloneVerifier, out, keysFile])
    expect(refused.code).toBe(1)
    expect(refused.stdout + refused.stderr).toContain('NOT VERIFIED')
  })

  it('exits 1 naming why there is no proof, and throws (exit 2) for an id of two tenants', async () => {
    const context = await trail()
    const proof = async (eventId: string) => {
      const { out, err, io } = captured()
      const code = await proofCommand(
        { eventId, checkpointIntervalMs: 60_000 },
        context.target,
        { openStorage: context.openShared, writeFile: () => undefined },
        io,
      )
      return { code, out, err }
    }
    expect(await proof('7f1c0e4a-0000-4000-8000-000000000000')).toEqual({
      code: 1,
      out: [],
      err: ['audit-pipeline: no proof: no event 7f1c0e4a-0000-4000-8000-000000000000 is stored'],
    })
    const uncovered = context.fixture.chain('acme', 'audit.normalized/0').events[45]!
    const notYet = await proof(uncovered.event_id)
    expect(notYet.code).toBe(1)
    expect(notYet.err[0]).toContain('is not covered by a checkpoint yet')
    const printed = await proof(context.fixture.chain('globex', 'audit.normalized/0').events[0]!.event_id)
    expect(printed.code).toBe(0)
    expect(JSON.parse(printed.out.join('\n'))).toMatchObject({ form: 'audit-pipeline/inclusion-proof/1' })

    const event = context.fixture.chain('acme', 'audit.normalized/0').events[2]!
    await mutation(
      context.storage,
      `INSERT INTO ${context.database}.audit_chain SELECT * REPLACE ('globex' AS tenant) FROM (SELECT * FROM ${context.database}.audit_chain WHERE event_id = '${event.event_id}')`,
    )
    await expect(proof(event.event_id)).rejects.toBeInstanceOf(VerificationError)
  })
})

describe('the built CLI', () => {
  it('exits 0 on an intact trail, 1 with findings, 2 when it cannot run or is misused', async () => {
    buildPackage('@audit-pipeline/cli')
    const { clickhouseUrl } = inject('stack')
    const database = uniqueName('cli_verify')
    // Embedded ClickHouse is one process's at a time: this test's own folder, closed while the CLI runs.
    const dataPath = join(inject('stackStateDir'), `chdb-worker-${process.pid}`)
    const config: StorageConfig = clickhouseUrl
      ? { kind: 'http', url: clickhouseUrl, database }
      : { kind: 'embedded', dataPath, database }
    const withStorage = async <T>(work: (storage: Storage) => Promise<T>): Promise<T> => {
      const storage = await openStorage(config)
      try {
        return await work(storage)
      } finally {
        await storage.close()
      }
    }
    onTestFinished(async () => {
      await withStorage((storage) => storage.client.command({ query: `DROP DATABASE IF EXISTS ${database}` }))
    })
    const fixture = await withStorage(async (storage) => {
      await storage.ensureDatabase(database)
      return writeTrail(storage, database, fixtureSpecs(Date.now()))
    })
    const dir = scratch()
    const keysFile = join(dir, 'keys.json')
    writeFileSync(keysFile, fixture.publicKeysJson)
    const env = {
      ...(clickhouseUrl ? { CLICKHOUSE_URL: clickhouseUrl } : { CLICKHOUSE_EMBEDDED_PATH: dataPath }),
      CLICKHOUSE_DATABASE: database,
      KAFKA_BROKERS: '',
      AUDIT_STACK_DIR: dir,
    }
    // The fixture's newest entries were stored minutes ago, uncovered: within an hour's grace.
    const verify = (...args: string[]) =>
      node([cli, 'verify', '--public-keys', keysFile, '--checkpoint-grace-ms', '3600000', ...args], env)

    const intact = await verify()
    expect(intact.stdout).toContain('INTACT: no findings.')
    expect(intact.stdout).toContain('Not compared with the checkpoints topic')
    expect(intact.code).toBe(0)

    const event = fixture.chain('acme', 'audit.normalized/1').events[12]!
    await withStorage((storage) =>
      mutation(
        storage,
        `ALTER TABLE ${database}.audit_events UPDATE actor_id = 'u-mallory' WHERE event_id = '${event.event_id}'`,
      ),
    )
    const broken = await verify('--tenant', 'acme')
    expect(broken.code).toBe(1)
    expect(broken.stdout).toMatch(
      new RegExp(`event-modified +acme +audit\\.normalized/1 +12 +${event.event_id}`),
    )

    const proof = await node(
      [cli, 'proof', fixture.chain('globex', 'audit.normalized/0').events[1]!.event_id],
      env,
    )
    expect(proof.code).toBe(0)
    expect(JSON.parse(proof.stdout)).toMatchObject({ form: 'audit-pipeline/inclusion-proof/1' })
    expect(await node([cli, 'proof', '7f1c0e4a-0000-4000-8000-000000000000'], env)).toMatchObject({ code: 1 })

    expect(await verify('--since', 'yesterday')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--since must be an ISO-8601 date') as unknown,
    })
    expect(await verify('--no-such-option')).toMatchObject({ code: 2 })
    const missingKeys = await node([cli, 'verify', '--public-keys', join(dir, 'missing.json')], env)
    expect(missingKeys).toMatchObject({ code: 2 })
    expect(missingKeys.stderr).toContain(
      `the public keys file ${join(dir, 'missing.json')} (--public-keys) does not exist`,
    )
    const noKeys = await node([cli, 'verify'], env)
    expect(noKeys.code).toBe(2)
    expect(noKeys.stderr).toContain('--public-keys is required')

    if (!clickhouseUrl) {
      // While this process holds the data folder, the CLI cannot open it, and says who does.
      await withStorage(async () => {
        const held = await verify()
        expect(held.code).toBe(2)
        expect(held.stderr).toContain(`is in use by another process (pid ${process.pid})`)
      })
    }
  })
})
