import { createServer } from 'node:net'
import { describe, expect, inject, it } from 'vitest'
import { uniqueName } from '@audit-pipeline/testing'
import { auditEventContract, type AvroSchema } from './contract.js'
import { loadContractSchemas, type ContractSchemas } from './contractSchemas.js'
import { checkWithRegistry, registerHistory } from './registryCheck.js'
import { checkSchemas } from './schemaGate.js'
import { SchemaRegistryError } from './schemaRegistryError.js'

/**
 * The gate against the test stack's real registry (Apicurio's Confluent-compatible API). Each test
 * registers the history it needs under a subject of its own, so tests stay independent; the real
 * contract's subject is never touched.
 */
const registryUrl = inject('stack').schemaRegistryUrl
const auditEvent = loadContractSchemas(auditEventContract)

type FieldSchema = { name: string; type: unknown; default?: unknown }

/** A fresh subject holding the given history (the real AuditEvent's by default), BACKWARD_TRANSITIVE. */
async function registeredContract(contract: ContractSchemas = auditEvent): Promise<ContractSchemas> {
  const subject = uniqueName(contract.subject)
  const registered = await registerHistory({ registryUrl, subject, versions: contract.released })
  expect(registered.map((r) => r.version)).toEqual(contract.released.map((r) => r.version))
  return { ...contract, subject }
}

/** The real AuditEvent with its working schema changed by `edit` (on a deep copy). */
function auditEventWith(contract: ContractSchemas, edit: (fields: FieldSchema[]) => void): ContractSchemas {
  const current = structuredClone(contract.current) as AvroSchema & { fields: FieldSchema[] }
  edit(current.fields)
  return { ...contract, current }
}

function field(fields: FieldSchema[], name: string): FieldSchema {
  const found = fields.find((f) => f.name === name)
  if (!found) throw new Error(`AuditEvent has no field ${name}`)
  return found
}

const actorFields = (fields: FieldSchema[]) =>
  (field(fields, 'actor').type as { fields: FieldSchema[] }).fields

/** Sends JSON to the registry as the Confluent API expects it; fails the test on anything but 200. */
async function send(method: 'POST' | 'PUT', path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${registryUrl}${path}`, {
    method,
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify(body),
  })
  expect(response.status, `${method} ${path}: ${await response.clone().text()}`).toBe(200)
  return response.json()
}

describe('schema gate against the registry', () => {
  it('passes the working tree against its history, locally and at the registry', async () => {
    const contract = await registeredContract()
    const report = await checkSchemas({ registryUrl, contracts: [contract] })

    expect(report.ok, report.summary).toBe(true)
    const [result] = report.contracts
    expect(result?.registry).toEqual({
      registryUrl,
      subject: contract.subject,
      registeredVersions: contract.released.map((r) => r.version),
      compatibilityLevel: 'BACKWARD_TRANSITIVE',
      compatibilityLevelOk: true,
      compatible: true,
      versions: contract.released.map(({ version }) => ({ version, breakingChanges: [] })),
    })
    expect(report.summary).toContain(`${contract.subject}: the registry at ${registryUrl} accepts it`)
  })

  it.each([
    {
      change: 'tenant changed to a long',
      edit: (fields: FieldSchema[]) => {
        field(fields, 'tenant').type = 'long'
      },
      message: "field 'tenant' changed type from string to long: Avro cannot read string data as long",
    },
    {
      change: 'a required field actor.department',
      edit: (fields: FieldSchema[]) => actorFields(fields).push({ name: 'department', type: 'string' }),
      message: "field 'actor.department' was added without a default: old data has no value for it",
    },
  ])('fails $change, locally and at the registry, naming the field', async ({ edit, message }) => {
    const contract = auditEventWith(await registeredContract(), edit)
    const report = await checkSchemas({ registryUrl, contracts: [contract] })

    expect(report.ok).toBe(false)
    expect(report.contracts[0]?.registry).toMatchObject({ compatible: false, compatibilityLevelOk: true })
    expect(report.contracts[0]?.problems).toEqual(
      expect.arrayContaining([
        `${contract.subject}: breaking change against v1: ${message}`,
        `${contract.subject}: breaking change against v1 registered at ${registryUrl}: ${message}`,
      ]),
    )
    expect(report.summary).toContain(`${contract.subject}: breaking change against v1: ${message}`)

    // The registry's verdict is its own: it refuses to register the change (409).
    await expect(
      registerHistory({
        registryUrl,
        subject: contract.subject,
        versions: [...contract.released, { version: contract.released.length + 1, schema: contract.current }],
      }),
    ).rejects.toMatchObject({ code: 'REGISTRY_REJECTED_SCHEMA' })
  })

  it('passes an added optional field, locally and at the registry, and says how to release it', async () => {
    const contract = auditEventWith(await registeredContract(), (fields) =>
      actorFields(fields).push({ name: 'department', type: ['null', 'string'], default: null }),
    )
    const report = await checkSchemas({ registryUrl, contracts: [contract] })

    expect(report.ok, report.summary).toBe(true)
    expect(report.contracts[0]?.registry).toMatchObject({ compatible: true })
    const next = contract.released.length + 1
    expect(report.summary).toContain(`copy audit-event.avsc to history/${contract.subject}/v${next}.avsc`)

    // Released as the gate says, the registry takes it as the next version.
    const released = await registerHistory({
      registryUrl,
      subject: contract.subject,
      versions: [...contract.released, { version: next, schema: contract.current }],
    })
    expect(released.map((r) => r.version)).toEqual([...contract.released.map((r) => r.version), next])
  })

  // POST /compatibility/subjects/{s}/versions, without a version, checks every registered version:
  // v3 reads v2 data but not v1 data.
  it('checks against every registered version, not only the latest', async () => {
    const record = (fields: FieldSchema[]): AvroSchema => ({
      type: 'record',
      name: 'T',
      namespace: 'test',
      fields,
    })
    const contract = await registeredContract({
      subject: 'test.T',
      file: 't.avsc',
      current: record([
        { name: 'id', type: 'string' },
        { name: 'x', type: 'int', default: 0 },
      ]),
      released: [
        {
          version: 1,
          schema: record([
            { name: 'id', type: 'string' },
            { name: 'x', type: 'string' },
          ]),
        },
        { version: 2, schema: record([{ name: 'id', type: 'string' }]) },
      ],
    })
    const registry = await checkWithRegistry({
      registryUrl,
      subject: contract.subject,
      schema: contract.current,
    })
    expect(registry.compatible).toBe(false)
    expect(registry.versions.map((v) => [v.version, v.breakingChanges.map((c) => c.path)])).toEqual([
      [1, ['x']],
      [2, []],
    ])
  })

  it('fails a subject whose level is not BACKWARD_TRANSITIVE, though the registry accepts the schema', async () => {
    const contract = await registeredContract()
    await send('PUT', `/config/${encodeURIComponent(contract.subject)}`, { compatibility: 'NONE' })
    // Under NONE the registry accepts anything, even a breaking change.
    const broken = auditEventWith(contract, (fields) => {
      field(fields, 'tenant').type = 'long'
    })
    const registry = await checkWithRegistry({
      registryUrl,
      subject: contract.subject,
      schema: broken.current,
    })
    expect(registry).toMatchObject({
      compatibilityLevel: 'NONE',
      compatibilityLevelOk: false,
      compatible: true,
    })

    const report = await checkSchemas({ registryUrl, contracts: [contract] })
    expect(report.ok).toBe(false)
    expect(report.contracts[0]?.problems).toEqual([
      `${contract.subject}: compatibility level at ${registryUrl} is NONE, expected BACKWARD_TRANSITIVE, so the registry's verdict does not cover every version (set it: PUT /config/${contract.subject})`,
    ])
  })

  it('fails a subject the registry does not know, instead of trusting its vacuous answer', async () => {
    const contract = { ...auditEvent, subject: uniqueName('gate_unregistered') }
    const report = await checkSchemas({ registryUrl, contracts: [contract] })
    expect(report.ok).toBe(false)
    expect(report.contracts[0]?.registry).toMatchObject({ registeredVersions: [], compatible: undefined })
    expect(report.contracts[0]?.problems).toEqual([
      expect.stringContaining(`not registered at ${registryUrl}`),
    ])
  })

  it('names the URL when the registry is unreachable', async () => {
    const closedUrl = `http://127.0.0.1:${await closedPort()}/apis/ccompat/v7`
    const check = checkSchemas({ registryUrl: closedUrl, contracts: [auditEvent] })
    await expect(check).rejects.toThrow(SchemaRegistryError)
    await expect(check).rejects.toMatchObject({
      code: 'REGISTRY_UNREACHABLE',
      retriable: true,
      message: expect.stringMatching(
        new RegExp(
          `^schema registry at ${escape(closedUrl)} is unreachable: GET ${escape(closedUrl)}/.*ECONNREFUSED`,
        ),
      ) as unknown,
    })
  })

  it('gives the status and body of an unexpected answer (a wrong base URL)', async () => {
    const wrongUrl = registryUrl.replace(/\/apis\/ccompat\/v7\/?$/, '/apis/nothing-here')
    const check = checkWithRegistry({ registryUrl: wrongUrl, subject: 'test.T', schema: 'string' })
    await expect(check).rejects.toMatchObject({
      code: 'REGISTRY_UNEXPECTED_RESPONSE',
      message: expect.stringMatching(
        new RegExp(`^schema registry at ${escape(wrongUrl)} answered GET .* with 404: `),
      ) as unknown,
    })
  })
})

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
