import { describe, expect, it } from 'vitest'
import { auditEventContract, currentSchema, releasedSchemas, type AvroSchema } from './contract.js'
import { checkAgainstHistory, sameSchema } from './historyCheck.js'
import { SchemaInvalidError } from './schemaInvalidError.js'

const record = (fields: unknown[], extra: Record<string, unknown> = {}): AvroSchema => ({
  type: 'record',
  name: 'T',
  fields,
  ...extra,
})

// The history the registry test checks too: v2 drops x (compatible), so a v3 that brings x back
// as an int reads v2 data but not v1 data.
const v1 = record([
  { name: 'id', type: 'string' },
  { name: 'x', type: 'string' },
])
const v2 = record([{ name: 'id', type: 'string' }])
const history = [
  { version: 1, schema: v1 },
  { version: 2, schema: v2 },
]

describe('checkAgainstHistory', () => {
  it('checks against every released version, not only the latest (BACKWARD_TRANSITIVE)', () => {
    const v3 = record([
      { name: 'id', type: 'string' },
      { name: 'x', type: 'int', default: 0 },
    ])
    const check = checkAgainstHistory(v3, history)
    expect(check.compatible).toBe(false)
    expect(check.versions).toEqual([
      {
        version: 1,
        breakingChanges: [
          {
            kind: 'TYPE_CHANGED',
            path: 'x',
            message: "field 'x' changed type from string to int: Avro cannot read string data as int",
          },
        ],
      },
      { version: 2, breakingChanges: [] },
    ])
  })

  it('passes a compatible new version and gives the version number to release it under', () => {
    const v3 = record([
      { name: 'id', type: 'string' },
      { name: 'note', type: ['null', 'string'], default: null },
    ])
    expect(checkAgainstHistory(v3, history)).toEqual({
      compatible: true,
      versions: [
        { version: 1, breakingChanges: [] },
        { version: 2, breakingChanges: [] },
      ],
      release: { status: 'unreleased', nextVersion: 3, latestVersion: 2, canonicalFormChanged: true },
    })
  })

  it('recognises the latest release whatever the formatting and key order', () => {
    const reordered = JSON.parse(
      JSON.stringify({ fields: v2['fields'], name: 'T', type: 'record' }),
    ) as AvroSchema
    expect(checkAgainstHistory(reordered, history).release).toEqual({ status: 'latest', version: 2 })
  })

  it('orders the history by version, whatever order it is given in', () => {
    const check = checkAgainstHistory(v2, [...history].reverse())
    expect(check.versions.map((v) => v.version)).toEqual([1, 2])
    expect(check.release).toEqual({ status: 'latest', version: 2 })
  })

  it('counts a documentation-only change as a new version, with an unchanged canonical form', () => {
    const documented = record([{ name: 'id', type: 'string', doc: 'The identifier.' }])
    expect(checkAgainstHistory(documented, history)).toMatchObject({
      compatible: true,
      release: { status: 'unreleased', nextVersion: 3, canonicalFormChanged: false },
    })
  })

  it('makes the first schema of a new subject version 1', () => {
    expect(checkAgainstHistory(v1, [])).toEqual({
      compatible: true,
      versions: [],
      release: { status: 'unreleased', nextVersion: 1, latestVersion: undefined, canonicalFormChanged: true },
    })
  })

  it('names the schema that is not valid Avro', () => {
    expect(() => checkAgainstHistory({ type: 'recrod' }, history)).toThrow(
      /^the current schema is not a valid Avro schema/,
    )
    const broken = [{ version: 1, schema: record([{ name: 'id', type: 'strin' }]) }]
    expect(() => checkAgainstHistory(v1, broken)).toThrow(SchemaInvalidError)
    expect(() => checkAgainstHistory(v1, broken)).toThrow(/^released v1 is not a valid Avro schema/)
  })

  it('finds the working tree AuditEvent compatible with its whole history', () => {
    const check = checkAgainstHistory(currentSchema(auditEventContract), releasedSchemas(auditEventContract))
    expect(check.versions.length).toBeGreaterThan(0)
    expect(check.versions.flatMap((v) => v.breakingChanges)).toEqual([])
  })
})

describe('sameSchema', () => {
  it('ignores key order and nothing else', () => {
    expect(
      sameSchema({ type: 'record', name: 'T', fields: [] }, { fields: [], name: 'T', type: 'record' }),
    ).toBe(true)
    expect(sameSchema(v1, v2)).toBe(false)
    expect(sameSchema(record([], { doc: 'a' }), record([], { doc: 'b' }))).toBe(false)
    // Field order is part of the schema: it is the order of the encoding.
    expect(
      sameSchema(
        record([
          { name: 'a', type: 'int' },
          { name: 'b', type: 'int' },
        ]),
        record([
          { name: 'b', type: 'int' },
          { name: 'a', type: 'int' },
        ]),
      ),
    ).toBe(false)
  })
})
