import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { renewKey, systemEntropy, updateApiKeysFile } from '@audit-pipeline/api-keys'
import { openLocalKeyStore, readKeyEncryptionKeyFile } from '@audit-pipeline/field-encryption'
import { readStackState } from '@audit-pipeline/local-stack'
import { createAuditProducer } from '@audit-pipeline/producer'
import { localQueryApiKeysFile, type PipelineEndpoints } from '@audit-pipeline/stack-state'
import { collectTopics, waitFor, waitForCommittedToEnd } from '@audit-pipeline/testing'
import { buildMainJob, buildPackage, startServiceProcess } from '../support/serviceProcess.js'

type ApiChange = { path: string; old_value: string | null; new_value: string | null }
type ApiEvent = { event_id: string; changes: ApiChange[]; before: string | null; after: string | null }

const root = join(import.meta.dirname, '..', '..')

beforeAll(() => {
  buildPackage('@audit-pipeline/cli')
  buildMainJob()
}, 300_000)

/**
 * Sensitive values end to end on `npm start`, as issue 17 asks: one event sealed at the source by
 * the SDK, one sent as raw JSON and sealed by the normalizer per its tenant's policy. An auditor
 * reads the values, an analyst `[redacted]`, SQL ciphertext. After `audit-pipeline erase` no key
 * reads them, no record on any topic and no row in ClickHouse holds the plaintext, and the trail
 * still verifies.
 */
describe('sensitive values on npm start', () => {
  it(
    'are readable by auditors only, and erased everywhere by destroying their keys',
    { timeout: 420_000 },
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'sensitive-'))
      const stateDir = join(work, 'stack')
      const sdkTenant = `sdk-${randomUUID().slice(0, 8)}`
      const rawTenant = `raw-${randomUUID().slice(0, 8)}`
      const plaintexts = [
        'sdk.old@example.com',
        'sdk.secret@example.com',
        'old.raw@example.com',
        'raw.secret@example.com',
      ]
      // The raw producer cannot seal: its tenant's policy names the sensitive field for it.
      const policyFile = join(work, 'redaction.yaml')
      writeFileSync(
        policyFile,
        [
          'default: { method: encrypt, subject: actor }',
          'tenants:',
          `  ${rawTenant}: { method: encrypt, subject: actor, sensitive_fields: [customer.email] }`,
          '',
        ].join('\n'),
      )
      const env = {
        AUDIT_STACK_DIR: stateDir,
        KAFKA_BROKERS: undefined,
        SCHEMA_REGISTRY_URL: undefined,
        CLICKHOUSE_URL: undefined,
        CLICKHOUSE_EMBEDDED_PATH: undefined,
        QUERY_API_PORT: undefined,
        FIELD_KEYS_DIR: undefined,
        FIELD_KEYS_KEK_FILE: undefined,
        NORMALIZER_REDACTION_FILE: policyFile,
      }
      const run = startServiceProcess('deploy/local-stack/dist/cli.js', env, ['run'])
      await waitFor(() => run.otherOutput.join('\n').includes('Press Ctrl-C'), {
        timeoutMs: 180_000,
        description: 'npm start to print its status table',
      })
      const endpoints = JSON.parse(readFileSync(join(stateDir, 'pipeline.json'), 'utf8')) as PipelineEndpoints
      expect(endpoints.fieldKeys).toBeDefined()
      const stack = readStackState(stateDir)!
      const kafka = new Kafka({
        clientId: 'sensitive-test',
        brokers: stack.kafka.brokers,
        logLevel: logLevel.NOTHING,
      })

      // An analyst key beside npm start's auditor key; the API follows its keys file.
      const { token: analystKey } = await updateApiKeysFile(localQueryApiKeysFile(stateDir), (keys) =>
        renewKey(keys ?? [], { id: 'analyst-e2e', role: 'analyst', tenants: 'all' }, systemEntropy()),
      )
      const api = async (path: string, key: string, init: RequestInit = {}) => {
        const response = await fetch(`${endpoints.queryApi.url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        })
        return { status: response.status, text: await response.text() }
      }
      const timeline = async (tenant: string, id: string, key: string): Promise<ApiEvent[]> => {
        const answer = await api(`/v1/objects/customer/${id}/timeline?tenant=${tenant}`, key)
        if (answer.status !== 200) throw new Error(`timeline answered ${answer.status}: ${answer.text}`)
        return (JSON.parse(answer.text) as { events: ApiEvent[] }).events
      }
      const auditor = endpoints.queryApi.key

      // 1. Through the SDK, sealed at the source with the store npm start made.
      const keys = openLocalKeyStore({
        directory: endpoints.fieldKeys!.directory,
        keyEncryptionKey: await readKeyEncryptionKeyFile(endpoints.fieldKeys!.kekFile),
      })
      const producer = await createAuditProducer({
        kafka,
        registry: new SchemaRegistry({ host: stack.schemaRegistry.url }),
        defaults: { source: { service: 'crm' } },
        encryption: { keys },
      })
      const sent = await producer.updated(
        { type: 'customer', id: 'c-5' },
        { email: 'sdk.old@example.com', tier: 'gold' },
        { email: 'sdk.secret@example.com', tier: 'platinum' },
        { tenant: sdkTenant, actor: { id: 'u-sdk-1' }, sensitiveFields: ['email'] },
      )
      await producer.close()
      expect(JSON.stringify(sent)).not.toContain('secret')

      // 2. Raw JSON, as a producer without the SDK sends it: plaintext on the input topic.
      const raw = kafka.producer()
      await raw.connect()
      await raw.send({
        topic: 'audit.events',
        acks: -1,
        messages: [
          {
            key: `${rawTenant}/customer/c-77`,
            value: JSON.stringify({
              event_id: randomUUID(),
              occurred_at: new Date().toISOString(),
              tenant: rawTenant,
              source: { service: 'crm-legacy' },
              actor: { type: 'user', id: 'u-raw-1' },
              action: { kind: 'update', name: 'customer.update' },
              category: 'business',
              object: { type: 'customer', id: 'c-77' },
              changes: [
                {
                  path: 'customer.email',
                  old_value: 'old.raw@example.com',
                  new_value: 'raw.secret@example.com',
                },
                { path: 'customer.tier', old_value: 'gold', new_value: 'platinum' },
              ],
              before: { customer: { email: 'old.raw@example.com', tier: 'gold' } },
              after: { customer: { email: 'raw.secret@example.com', tier: 'platinum' } },
            }),
          },
        ],
      })
      await raw.disconnect()

      // The auditor reads both in the clear, with the other change untouched.
      const sdkEvents = await waitFor(
        async () =>
          (await timeline(sdkTenant, 'c-5', auditor)).length === 1 && timeline(sdkTenant, 'c-5', auditor),
        {
          timeoutMs: 60_000,
          description: "the SDK's event in the query API",
        },
      )
      expect(sdkEvents[0]?.changes).toContainEqual(
        expect.objectContaining({
          path: 'email',
          old_value: '"sdk.old@example.com"',
          new_value: '"sdk.secret@example.com"',
        }),
      )
      expect(sdkEvents[0]?.changes).toContainEqual(
        expect.objectContaining({ path: 'tier', new_value: '"platinum"' }),
      )
      const rawEvents = await waitFor(
        async () =>
          (await timeline(rawTenant, 'c-77', auditor)).length === 1 && timeline(rawTenant, 'c-77', auditor),
        {
          timeoutMs: 60_000,
          description: 'the raw event in the query API',
        },
      )
      expect(rawEvents[0]?.changes).toContainEqual(
        expect.objectContaining({
          path: 'customer.email',
          old_value: '"old.raw@example.com"',
          new_value: '"raw.secret@example.com"',
        }),
      )
      expect(JSON.parse(rawEvents[0]!.after!)).toEqual({
        customer: { email: 'raw.secret@example.com', tier: 'platinum' },
      })

      // The analyst reads [redacted] where the auditor reads values, and the rest as it is.
      for (const [tenant, id, path] of [
        [sdkTenant, 'c-5', 'email'],
        [rawTenant, 'c-77', 'customer.email'],
      ] as const) {
        const [event] = await timeline(tenant, id, analystKey)
        expect(event?.changes).toContainEqual(
          expect.objectContaining({ path, old_value: '"[redacted]"', new_value: '"[redacted]"' }),
        )
        for (const plaintext of plaintexts) expect(JSON.stringify(event)).not.toContain(plaintext)
      }

      // SQL returns what is stored: ciphertext, for the auditor too.
      const storedRows = async () => {
        const texts: string[] = []
        for (const table of ['audit_events', 'audit_changes']) {
          const answer = await api('/v1/sql', auditor, {
            method: 'POST',
            body: JSON.stringify({
              sql: `SELECT * FROM ${table} WHERE tenant IN ({a:String}, {b:String})`,
              params: { a: sdkTenant, b: rawTenant },
            }),
          })
          expect(answer.status, answer.text).toBe(200)
          texts.push(answer.text)
        }
        return texts.join('\n')
      }
      const sql = await storedRows()
      expect(sql).toContain('enc:v1:')
      for (const plaintext of plaintexts) expect(sql).not.toContain(plaintext)

      // 3. Erase both subjects. The normalizer has handled the raw input first (its committed
      // offset is past it), which is what erase removes from the input topic.
      await waitForCommittedToEnd(kafka, 'audit-normalizer', 'audit.events', 60_000)
      for (const [tenant, subject] of [
        [sdkTenant, 'u-sdk-1'],
        [rawTenant, 'u-raw-1'],
      ] as const) {
        const output = execFileSync(
          process.execPath,
          [
            join(root, 'packages/cli/bin/audit-pipeline.js'),
            'erase',
            '--tenant',
            tenant,
            '--subject',
            subject,
            '--reason',
            'e2e request',
            '--json',
          ],
          { cwd: root, env: childEnv(env), encoding: 'utf8' },
        )
        const erasure = JSON.parse(output) as { keysDestroyed: string[] | null }
        expect(erasure.keysDestroyed).toHaveLength(1)
        expect(output).not.toContain(subject)
      }

      // No key reads them any more: [erased] for the auditor, [redacted] still for the analyst.
      for (const [tenant, id, path] of [
        [sdkTenant, 'c-5', 'email'],
        [rawTenant, 'c-77', 'customer.email'],
      ] as const) {
        const [event] = await timeline(tenant, id, auditor)
        expect(event?.changes).toContainEqual(
          expect.objectContaining({ path, old_value: '"[erased]"', new_value: '"[erased]"' }),
        )
        for (const plaintext of plaintexts) expect(JSON.stringify(event)).not.toContain(plaintext)
      }
      // The erasure is itself an audit event of the tenant, naming the subject by digest only.
      const erasures = await waitFor(
        async () => {
          const answer = await api(`/v1/events?tenant=${rawTenant}&object_type=data_subject`, auditor)
          const events = (JSON.parse(answer.text) as { events: { action: { name: string } }[] }).events
          return events.length > 0 && answer.text
        },
        { timeoutMs: 60_000, description: 'the erasure event in the query API' },
      )
      expect(erasures).not.toContain('u-raw-1')

      // Every record on every topic, headers included, and every stored row: no plaintext.
      const admin = kafka.admin()
      await admin.connect()
      const topics = (await admin.listTopics()).filter((topic) => !topic.startsWith('__'))
      let expected = 0
      for (const topic of topics) {
        for (const partition of await admin.fetchTopicOffsets(topic)) {
          expected += Number(partition.high) - Number(partition.low)
        }
      }
      await admin.disconnect()
      const collector = await collectTopics(kafka, topics)
      onTestFinished(() => collector.stop())
      await waitFor(() => collector.messages.length >= expected, {
        timeoutMs: 60_000,
        description: `all ${expected} records of ${topics.length} topics`,
      })
      const onTopics = collector.messages
        .map((message) =>
          [message.value?.toString('latin1') ?? '', ...Object.values(message.headers ?? {}).map(String)].join(
            '\n',
          ),
        )
        .join('\n')
      expect(onTopics).toContain('enc:v1:')
      for (const plaintext of plaintexts) expect(onTopics, `${plaintext} on a topic`).not.toContain(plaintext)
      const sqlAfter = await storedRows()
      for (const plaintext of plaintexts) expect(sqlAfter).not.toContain(plaintext)

      // 4. The trail still verifies: erasure rewrote nothing that was stored.
      run.child.kill('SIGINT')
      expect(await run.exited).toBe(0)
      for (const tenant of [sdkTenant, rawTenant]) {
        const report = execFileSync(
          process.execPath,
          [join(root, 'packages/cli/bin/audit-pipeline.js'), 'verify', '--tenant', tenant, '--json'],
          {
            cwd: root,
            env: childEnv({
              ...env,
              CLICKHOUSE_EMBEDDED_PATH: join(stateDir, 'clickhouse'),
              CLICKHOUSE_DATABASE: 'audit',
            }),
            encoding: 'utf8',
          },
        )
        expect(JSON.parse(report)).toMatchObject({ intact: true })
      }
    },
  )
})

/** This process's environment with `env` over it; a variable set to undefined there is removed. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env }
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name]
    else merged[name] = value
  }
  return merged
}
