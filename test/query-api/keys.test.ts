import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { uniqueName, waitFor, testSigningKeyFile } from '@audit-pipeline/testing'
import {
  buildMainJob,
  buildPackage,
  startServiceProcess,
  type ServiceProcess,
} from '../support/serviceProcess.js'

const stack = inject('stack')
const root = join(import.meta.dirname, '..', '..')
const execute = promisify(execFile)

beforeAll(() => {
  buildMainJob()
  buildPackage('@audit-pipeline/cli')
}, 300_000)

type PipelineJson = { queryApi: { url: string; key: string } }
type ListedKey = { id: string; role: string; tenants: string[] | 'all'; status: string }

/**
 * What a new user does with keys: `npm start` (audit-stack run), then in another shell
 * `audit-pipeline keys create --role analyst --tenant t1` and a request with the token, `keys list`,
 * `keys revoke`; then a restart of `npm start`, which keeps the keys. The CLI finds the keys file
 * the way it does for a user: through the stack's state folder (AUDIT_STACK_DIR, .stack/ by default).
 *
 * `npm start` runs on the run's broker and registry, as in e2e/mainJob.test.ts, with topics and
 * groups of its own (starting a Kafka of its own, as the demo test does, would double the time);
 * its ClickHouse is embedded, in the test's state folder.
 */
describe('API keys against npm start', () => {
  it(
    'a created analyst key for one tenant works at once, a revoked one is refused at once, and keys survive a restart',
    { timeout: 300_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'keys-e2e-'))
      const stateDir = join(dir, 'stack')
      const env = await pipelineEnvironment(dir, stateDir)
      const cli = (args: string[]) => runCli(args, env)

      const first = await startPipeline(env)
      const api = apiOf(stateDir)
      // The stack's own key works (pipeline.json and the keys file agree).
      expect((await get(api.url, '/v1/whoami', api.key)).status).toBe(200)

      const created = await cli(['keys', 'create', '--role', 'analyst', '--tenant', 't1'])
      expect(created.code, created.stderr).toBe(0)
      const token = /export AUDIT_API_KEY=(\S+)/.exec(created.stdout)?.[1]
      expect(token, created.stdout).toMatch(/^key-[0-9a-f]{8}\.[A-Za-z0-9_-]{43}$/)
      const keyId = token!.split('.')[0]!
      expect(created.stdout).toContain(join(stateDir, 'query-api-keys.json'))
      expect(created.stdout).toContain('shown this once and stored nowhere')

      // At once: the API follows the file; the deadline only bounds a broken reload.
      await waitFor(async () => (await get(api.url, '/v1/events', token!)).status === 200, {
        timeoutMs: 10_000,
        description: 'the new key to be accepted',
      })
      const whoami = await get(api.url, '/v1/whoami', token!)
      expect(whoami.body).toEqual({ key_id: keyId, role: 'analyst', tenants: ['t1'] })
      expect((await get(api.url, '/v1/events?tenant=t1', token!)).status).toBe(200)
      const otherTenant = await get(api.url, '/v1/events?tenant=t2', token!)
      expect(otherTenant.status).toBe(403)
      expect(otherTenant.body).toMatchObject({ message: `key ${keyId} may not read tenant 't2'` })

      const listed = await cli(['keys', 'list', '--format', 'json'])
      expect(listed.code, listed.stderr).toBe(0)
      const keys = listed.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as ListedKey)
      expect(keys).toContainEqual(
        expect.objectContaining({ id: keyId, role: 'analyst', tenants: ['t1'], status: 'active' }),
      )
      expect(keys).toContainEqual(expect.objectContaining({ id: 'local-auditor', tenants: 'all' }))
      const table = await cli(['keys', 'list'])
      expect(table.stdout).toMatch(new RegExp(`${keyId} +analyst +active`))
      for (const output of [listed.stdout, table.stdout]) {
        expect(output).not.toContain(token!.split('.')[1])
        expect(output).not.toMatch(/[0-9a-f]{64}/)
      }

      // A second key, kept active across the restart below.
      const kept = await cli([
        'keys',
        'create',
        '--role',
        'auditor',
        '--tenant',
        't2',
        '--id',
        'kept',
        '--expires',
        '1d',
      ])
      expect(kept.code, kept.stderr).toBe(0)
      const keptToken = /export AUDIT_API_KEY=(\S+)/.exec(kept.stdout)![1]!
      const duplicate = await cli(['keys', 'create', '--role', 'auditor', '--id', 'kept'])
      expect(duplicate.code).toBe(2)
      expect(duplicate.stderr).toContain("--id: key id 'kept' is already in use")
      const badRole = await cli(['keys', 'create', '--role', 'admin'])
      expect(badRole.code).toBe(2)
      expect(badRole.stderr).toContain("--role expected one of: auditor, analyst; got 'admin'")

      const revoked = await cli(['keys', 'revoke', keyId])
      expect(revoked.code, revoked.stderr).toBe(0)
      await waitFor(async () => (await get(api.url, '/v1/events', token!)).status === 401, {
        timeoutMs: 10_000,
        description: 'the revoked key to be refused',
      })
      expect((await get(api.url, '/v1/events', token!)).body).toMatchObject({ message: 'API key revoked' })
      expect((await get(api.url, '/v1/events', api.key)).status).toBe(200)

      await stopPipeline(first)

      // npm start again: the keys file is kept, only the stack's own key gets a fresh secret.
      const second = await startPipeline(env)
      const restarted = apiOf(stateDir)
      expect(restarted.key).not.toBe(api.key)
      expect((await get(restarted.url, '/v1/events', restarted.key)).status).toBe(200)
      expect((await get(restarted.url, '/v1/whoami', keptToken)).body).toMatchObject({
        key_id: 'kept',
        tenants: ['t2'],
      })
      expect((await get(restarted.url, '/v1/events', token!)).status).toBe(401)
      const after = await cli(['keys', 'list', '--format', 'json'])
      expect(
        after.stdout
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line) as ListedKey)
          .map((key) => [key.id, key.status]),
      ).toEqual([
        ['local-auditor', 'active'],
        [keyId, 'revoked'],
        ['kept', 'active'],
      ])
      await stopPipeline(second)
    },
  )
})

/** The environment of `npm start` and of the CLI beside it: the test's state folder, topics and groups. */
async function pipelineEnvironment(
  dir: string,
  stateDir: string,
): Promise<Record<string, string | undefined>> {
  const [input, output, deadLetters, alerts, access] = [
    'keys_in',
    'keys_out',
    'keys_dlq',
    'keys_alerts',
    'keys_access',
  ].map(uniqueName) as [string, string, string, string, string]
  const kafka = new Kafka({ clientId: 'keys-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  onTestFinished(() => admin.disconnect())
  await admin.createTopics({
    topics: [input, output, deadLetters, alerts, access].map((topic) => ({ topic, numPartitions: 1 })),
    waitForLeaders: true,
  })
  writeFileSync(join(dir, 'routes.yaml'), `default:\n  to: [${output}]\n`)
  return {
    AUDIT_STACK_DIR: stateDir,
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    // The stack's embedded ClickHouse, in the state folder; the default keys file, for `npm start` and the CLI.
    CLICKHOUSE_URL: undefined,
    CLICKHOUSE_EMBEDDED_PATH: undefined,
    QUERY_API_KEYS_FILE: undefined,
    QUERY_API_PORT: undefined,
    // Access records on their own topic, as in production: producers' events may not claim to be one.
    QUERY_API_AUDIT_TOPIC: access,
    AUDIT_API_URL: undefined,
    AUDIT_API_KEY: undefined,
    NORMALIZER_INPUT_TOPICS: input,
    NORMALIZER_ROUTES_FILE: join(dir, 'routes.yaml'),
    NORMALIZER_DEAD_LETTER_TOPIC: deadLetters,
    NORMALIZER_GROUP_ID: uniqueName('keys-normalizer'),
    SINK_INPUT_TOPICS: `${output},${alerts},${access}`,
    SINK_ALERT_TOPICS: alerts,
    SINK_ACCESS_TOPICS: access,
    SINK_SIGNING_KEY_FILE: testSigningKeyFile(),
    SINK_GROUP_ID: uniqueName('keys-sink'),
    SINK_DEAD_LETTER_TOPIC: deadLetters,
    ALERTING_INPUT_TOPICS: output,
    ALERTING_ALERTS_TOPIC: alerts,
    ALERTING_STATE_TOPIC: uniqueName('keys_alerting_state'),
    ALERTING_DEAD_LETTER_TOPIC: deadLetters,
    // Conflicts the test's own services dead-letter raise its alerts; no other test's.
    ALERTING_CONFLICT_INPUT_TOPICS: deadLetters,
    ALERTING_GROUP_ID: uniqueName('keys-alerting'),
    ALERTING_TRANSACTIONAL_ID: uniqueName('keys-alerting'),
    FORWARDER_INPUT_TOPICS: output,
    FORWARDER_GROUP_ID_PREFIX: uniqueName('keys-forwarder'),
    FORWARDER_DEAD_LETTER_TOPIC_PREFIX: `${uniqueName('keys_fwd_dlq')}.`,
    FORWARDER_RETRY_TOPIC_PREFIX: `${uniqueName('keys_fwd_retry')}.`,
  }
}

/** `npm start`'s main job, once it printed its status table. */
async function startPipeline(env: Record<string, string | undefined>): Promise<ServiceProcess> {
  const run = startServiceProcess('deploy/local-stack/dist/cli.js', env, ['run'])
  // Ctrl-C, so it stops its services too, should the test fail before stopping it.
  onTestFinished(async () => {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGINT')
      await run.exited
    }
  })
  await waitFor(
    () => {
      const output = run.otherOutput.join('\n')
      if (output.includes('Press Ctrl-C')) return true
      if (run.child.exitCode !== null) throw new Error(`npm start exited:\n${output}`)
      return false
    },
    { timeoutMs: 120_000, description: 'npm start to print its status table' },
  )
  return run
}

async function stopPipeline(run: ServiceProcess): Promise<void> {
  run.child.kill('SIGINT')
  expect(await run.exited).toBe(0)
}

function apiOf(stateDir: string): PipelineJson['queryApi'] {
  return (JSON.parse(readFileSync(join(stateDir, 'pipeline.json'), 'utf8')) as PipelineJson).queryApi
}

async function get(url: string, path: string, token: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })
  return { status: response.status, body: await response.json() }
}

/** The built CLI, as a user runs it; resolves with its exit code and output whatever the code. */
async function runCli(args: string[], env: Record<string, string | undefined>) {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env }
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete merged[name]
  try {
    const { stdout, stderr } = await execute(
      process.execPath,
      [join(root, 'packages/cli/bin/audit-pipeline.js'), ...args],
      {
        cwd: root,
        env: merged,
      },
    )
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}
