import { describe, expect, it } from 'vitest'
import { auditEventContract, contracts, type AvroSchema } from './contract.js'
import { loadContractSchemas, type ContractSchemas } from './contractSchemas.js'
import { checkAgainstHistory } from './historyCheck.js'
import type { RegistryCheck } from './registryCheck.js'
import { checkSchemas, reportContract } from './schemaGate.js'

type FieldSchema = { name: string; type: unknown; default?: unknown }

/** The real AuditEvent contract with its working schema changed by `edit` (on a deep copy). */
function auditEventWith(edit: (fields: FieldSchema[]) => void): ContractSchemas {
  const loaded = loadContractSchemas(auditEventContract)
  const current = structuredClone(loaded.current) as AvroSchema & { fields: FieldSchema[] }
  edit(current.fields)
  return { ...loaded, current }
}

function actorFields(fields: FieldSchema[]): FieldSchema[] {
  return (fields.find((f) => f.name === 'actor')?.type as { fields: FieldSchema[] }).fields
}

describe('schemas check', () => {
  // This is the gate `npm test` runs: every working-tree schema against its released history.
  it('passes every contract of the working tree against its released history', async () => {
    const report = await checkSchemas({ contracts: contracts.map(loadContractSchemas) })
    expect(report.ok, report.summary).toBe(true)
    expect(report.contracts.map((c) => c.subject)).toEqual(contracts.map((c) => c.subject))
  })
})

describe('checkSchemas without a registry', () => {
  it('fails a required field added to the AuditEvent, naming the field against v1', async () => {
    const contract = auditEventWith((fields) =>
      actorFields(fields).push({ name: 'department', type: 'string' }),
    )
    const report = await checkSchemas({ contracts: [contract] })
    expect(report.ok).toBe(false)
    expect(report.summary.split('\n')).toEqual([
      'schemas check FAILED: 1 of 1 contract (history/ only)',
      "io.auditpipeline.v1.AuditEvent: breaking change against v1: field 'actor.department' was added without a default: old data has no value for it",
      "io.auditpipeline.v1.AuditEvent: breaking change against v1: field 'on_behalf_of.department' was added without a default: old data has no value for it",
    ])
  })

  it('fails tenant changed to a long', async () => {
    const contract = auditEventWith((fields) => {
      fields.find((f) => f.name === 'tenant')!.type = 'long'
    })
    const report = await checkSchemas({ contracts: [contract] })
    expect(report.contracts[0]?.problems).toEqual([
      "io.auditpipeline.v1.AuditEvent: breaking change against v1: field 'tenant' changed type from string to long: Avro cannot read string data as long",
    ])
  })

  it('passes an optional field with a default, and says how to release it', async () => {
    const contract = auditEventWith((fields) =>
      actorFields(fields).push({ name: 'department', type: ['null', 'string'], default: null }),
    )
    const report = await checkSchemas({ contracts: [contract] })
    expect(report.ok, report.summary).toBe(true)
    expect(report.summary.split('\n')).toEqual([
      'schemas check passed: 1 contract (history/ only)',
      'io.auditpipeline.v1.AuditEvent: the working schema is a compatible new version, not yet released; compatible with v1 (BACKWARD_TRANSITIVE: every released version): copy audit-event.avsc to history/io.auditpipeline.v1.AuditEvent/v2.avsc to release it',
    ])
  })

  it('reports a working schema that is not valid Avro as a failure', async () => {
    const contract = auditEventWith((fields) => {
      fields.find((f) => f.name === 'tenant')!.type = 'strng'
    })
    const report = await checkSchemas({ contracts: [contract] })
    expect(report.ok).toBe(false)
    expect(report.contracts[0]?.problems).toEqual([
      expect.stringMatching(
        /^io\.auditpipeline\.v1\.AuditEvent: the current schema is not a valid Avro schema: .*strng/,
      ),
    ])
  })
})

describe('reportContract with a registry verdict', () => {
  const contract: ContractSchemas = {
    subject: 'test.T',
    file: 't.avsc',
    current: { type: 'record', name: 'T', fields: [{ name: 'id', type: 'string' }] },
    released: [
      { version: 1, schema: { type: 'record', name: 'T', fields: [{ name: 'id', type: 'string' }] } },
    ],
  }
  const history = checkAgainstHistory(contract.current, contract.released)
  const registry: RegistryCheck = {
    registryUrl: 'http://registry.test/apis/ccompat/v7',
    subject: 'test.T',
    registeredVersions: [1],
    compatibilityLevel: 'BACKWARD_TRANSITIVE',
    compatibilityLevelOk: true,
    compatible: true,
    versions: [{ version: 1, breakingChanges: [] }],
  }

  it('passes when the registry accepts it at BACKWARD_TRANSITIVE', () => {
    const report = reportContract(contract, { history, registry })
    expect(report.ok).toBe(true)
    expect(report.details).toEqual([
      'test.T: the working schema is v1, the latest released version; compatible with v1 (BACKWARD_TRANSITIVE: every released version)',
      'test.T: the registry at http://registry.test/apis/ccompat/v7 accepts it against registered version 1 (BACKWARD_TRANSITIVE)',
    ])
  })

  it('fails a subject whose level is not BACKWARD_TRANSITIVE, even when the registry accepts', () => {
    const report = reportContract(contract, {
      history,
      registry: { ...registry, compatibilityLevel: 'BACKWARD', compatibilityLevelOk: false },
    })
    expect(report.problems).toEqual([
      "test.T: compatibility level at http://registry.test/apis/ccompat/v7 is BACKWARD, expected BACKWARD_TRANSITIVE, so the registry's verdict does not cover every version (set it: PUT /config/test.T)",
    ])
  })

  it('fails a released subject the registry does not know: its verdict would be vacuous', () => {
    const report = reportContract(contract, {
      history,
      registry: {
        ...registry,
        registeredVersions: [],
        compatibilityLevel: undefined,
        compatibilityLevelOk: false,
        compatible: undefined,
        versions: [],
      },
    })
    expect(report.problems).toEqual([
      'test.T: not registered at http://registry.test/apis/ccompat/v7, so the registry cannot check it; register the 1 released version first (registerHistory)',
    ])
  })

  it('passes a new subject with no history that the registry does not know yet', () => {
    const fresh = { ...contract, released: [] }
    const report = reportContract(fresh, {
      history: checkAgainstHistory(fresh.current, []),
      registry: {
        ...registry,
        registeredVersions: [],
        compatibilityLevel: undefined,
        compatibilityLevelOk: false,
        compatible: undefined,
        versions: [],
      },
    })
    expect(report.ok).toBe(true)
    expect(report.details).toEqual([
      'test.T: the working schema is the first version of a new subject: copy t.avsc to history/test.T/v1.avsc to release it',
      "test.T: not registered at http://registry.test/apis/ccompat/v7 yet; its first registration starts the registry's history",
    ])
  })

  it("fails the registry's refusal with the field the local walk finds in the registered version", () => {
    const report = reportContract(contract, {
      history,
      registry: {
        ...registry,
        registeredVersions: [1, 2],
        compatible: false,
        versions: [
          { version: 1, breakingChanges: [] },
          {
            version: 2,
            breakingChanges: [
              { kind: 'TYPE_CHANGED', path: 'id', message: "field 'id' changed type from long to string: …" },
            ],
          },
        ],
      },
    })
    expect(report.problems).toEqual([
      "test.T: breaking change against v2 registered at http://registry.test/apis/ccompat/v7: field 'id' changed type from long to string: …",
    ])
  })

  it('still fails a refusal the local walk cannot explain: the registry is the authority', () => {
    const report = reportContract(contract, { history, registry: { ...registry, compatible: false } })
    expect(report.ok).toBe(false)
    expect(report.problems).toEqual([
      'test.T: the registry at http://registry.test/apis/ccompat/v7 refuses the working schema as incompatible with registered versions 1; the local check finds no field-level reason',
    ])
  })
})
