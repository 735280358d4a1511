import { describe, expect, it } from 'vitest'
import { breakingChanges, type AvroSchemaDefinition, type BreakingChange } from './breakingChanges.js'
import { auditEventContract, currentSchema, type AvroSchema } from './contract.js'
import { SchemaInvalidError } from './schemaInvalidError.js'

type FieldSchema = { name: string; type: unknown; default?: unknown; aliases?: string[] }

const record = (fields: FieldSchema[], extra: Record<string, unknown> = {}): AvroSchema => ({
  type: 'record',
  name: 'T',
  namespace: 'test',
  fields,
  ...extra,
})

/** Kind and path of each change: what a reader of the report acts on. */
const found = (changes: BreakingChange[]) => changes.map(({ kind, path }) => [kind, path])

/** The real AuditEvent, changed by `edit` (a deep copy, so tests cannot affect each other). */
function auditEvent(edit: (schema: { fields: FieldSchema[] }) => void = () => {}): AvroSchema {
  const schema = structuredClone(currentSchema(auditEventContract)) as AvroSchema & { fields: FieldSchema[] }
  edit(schema)
  return schema
}

function fieldOf(schema: { fields: FieldSchema[] }, path: string): FieldSchema {
  const [name, ...rest] = path.split('.')
  const field = schema.fields.find((f) => f.name === name)
  if (!field) throw new Error(`no field ${path}`)
  if (rest.length === 0) return field
  const type = field.type as { fields?: FieldSchema[]; items?: { fields: FieldSchema[] } }
  const nested = type.fields ? (type as { fields: FieldSchema[] }) : type.items
  if (!nested) throw new Error(`field ${name} has no nested record`)
  return fieldOf(nested, rest.join('.'))
}

/** Adds `field` to the record at `path` (or to the items of the array of records there). */
function addField(schema: { fields: FieldSchema[] }, path: string, field: FieldSchema): void {
  const type = fieldOf(schema, path).type as { fields?: FieldSchema[]; items?: { fields: FieldSchema[] } }
  const target = type.fields ?? type.items?.fields
  if (!target) throw new Error(`field ${path} holds no record`)
  target.push(field)
}

describe('breakingChanges', () => {
  describe('fields', () => {
    const v1 = record([
      { name: 'id', type: 'string' },
      { name: 'count', type: 'int' },
    ])

    it('passes an identical schema', () => {
      expect(breakingChanges(v1, v1)).toEqual([])
      expect(breakingChanges(auditEvent(), auditEvent())).toEqual([])
    })

    it.each([
      {
        change: 'a nullable field defaulting to null',
        field: { name: 'note', type: ['null', 'string'], default: null },
      },
      { change: 'a string field with a default', field: { name: 'note', type: 'string', default: '' } },
      {
        change: 'an array field defaulting to []',
        field: { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
      },
    ])('passes an added optional field: $change', ({ field }) => {
      expect(breakingChanges(record([...(v1['fields'] as FieldSchema[]), field]), v1)).toEqual([])
    })

    it('fails an added field without a default, naming it', () => {
      const changes = breakingChanges(
        record([...(v1['fields'] as FieldSchema[]), { name: 'tenant', type: 'string' }]),
        v1,
      )
      expect(changes).toEqual([
        {
          kind: 'FIELD_ADDED_WITHOUT_DEFAULT',
          path: 'tenant',
          message: "field 'tenant' was added without a default: old data has no value for it",
        },
      ])
    })

    it('passes a removed field: the reader skips it', () => {
      expect(breakingChanges(record([{ name: 'id', type: 'string' }]), v1)).toEqual([])
    })

    it('passes a renamed field that keeps the old name as an alias', () => {
      const renamed = record([
        { name: 'id', type: 'string' },
        { name: 'total', type: 'int', aliases: ['count'] },
      ])
      expect(breakingChanges(renamed, v1)).toEqual([])
    })

    it('fails a renamed field without an alias or default, naming the new field', () => {
      const renamed = record([
        { name: 'id', type: 'string' },
        { name: 'total', type: 'int' },
      ])
      expect(found(breakingChanges(renamed, v1))).toEqual([['FIELD_ADDED_WITHOUT_DEFAULT', 'total']])
    })

    it('fails a field whose aliases match two old fields', () => {
      const ambiguous = record([{ name: 'id', type: 'string', aliases: ['count'] }])
      const [change] = breakingChanges(ambiguous, v1)
      expect(change).toMatchObject({ kind: 'AMBIGUOUS_FIELD_ALIAS', path: 'id' })
      expect(change?.message).toContain("'count'")
    })

    it('reports every breaking field, not only the first', () => {
      const v2 = record([
        { name: 'id', type: 'long' },
        { name: 'count', type: 'int' },
        { name: 'a', type: 'string' },
        { name: 'b', type: 'string' },
      ])
      expect(found(breakingChanges(v2, v1))).toEqual([
        ['TYPE_CHANGED', 'id'],
        ['FIELD_ADDED_WITHOUT_DEFAULT', 'a'],
        ['FIELD_ADDED_WITHOUT_DEFAULT', 'b'],
      ])
    })
  })

  describe('type promotions (Avro specification: schema resolution)', () => {
    const field = (type: AvroSchemaDefinition) => record([{ name: 'value', type }])

    it.each([
      ['int', 'long'],
      ['int', 'float'],
      ['int', 'double'],
      ['long', 'float'],
      ['long', 'double'],
      ['float', 'double'],
      ['string', 'bytes'],
      ['bytes', 'string'],
    ])('passes %s -> %s', (from, to) => {
      expect(breakingChanges(field(to), field(from))).toEqual([])
    })

    it.each([
      ['long', 'int'],
      ['long', 'string'],
      ['double', 'float'],
      ['string', 'int'],
      ['boolean', 'int'],
      ['int', 'boolean'],
      ['null', 'string'],
    ])('fails %s -> %s, naming the field and both types', (from, to) => {
      expect(breakingChanges(field(to), field(from))).toEqual([
        {
          kind: 'TYPE_CHANGED',
          path: 'value',
          message: `field 'value' changed type from ${from} to ${to}: Avro cannot read ${from} data as ${to}`,
        },
      ])
    })

    it('ignores logical types: they do not change the encoding', () => {
      const plain = field('long')
      const timestamp = field({ type: 'long', logicalType: 'timestamp-millis' })
      expect(breakingChanges(timestamp, plain)).toEqual([])
      expect(breakingChanges(plain, timestamp)).toEqual([])
    })

    it('fails a change of kind: array to map, record to string', () => {
      const array = field({ type: 'array', items: 'string' })
      const map = field({ type: 'map', values: 'string' })
      expect(breakingChanges(map, array)).toEqual([
        {
          kind: 'TYPE_CHANGED',
          path: 'value',
          message:
            "field 'value' changed type from array<string> to map<string>: Avro cannot read array<string> data as map<string>",
        },
      ])
      expect(found(breakingChanges('string', record([])))).toEqual([['TYPE_CHANGED', '']])
    })
  })

  describe('enums', () => {
    const colour = (symbols: string[], extra: Record<string, unknown> = {}) =>
      record([{ name: 'colour', type: { type: 'enum', name: 'Colour', symbols, ...extra } }])

    it('passes an added symbol', () => {
      expect(breakingChanges(colour(['red', 'green', 'blue']), colour(['red', 'green']))).toEqual([])
    })

    it('fails a removed symbol, naming the field and the symbol', () => {
      expect(breakingChanges(colour(['red']), colour(['red', 'green', 'blue']))).toEqual([
        {
          kind: 'ENUM_SYMBOL_REMOVED',
          path: 'colour',
          message:
            "field 'colour' (enum test.Colour) lost symbols 'green', 'blue', which old data may hold, and the enum has no default",
        },
      ])
    })

    it("passes a removed symbol when the reader's enum has a default", () => {
      expect(
        breakingChanges(colour(['red', 'other'], { default: 'other' }), colour(['red', 'green'])),
      ).toEqual([])
    })

    it('fails a renamed enum without an alias, passes one with the old name as alias', () => {
      const renamed = record([{ name: 'colour', type: { type: 'enum', name: 'Hue', symbols: ['red'] } }])
      expect(breakingChanges(renamed, colour(['red']))).toEqual([
        {
          kind: 'NAME_CHANGED',
          path: 'colour',
          message:
            "field 'colour' (enum test.Colour) was renamed to test.Hue without an alias for the old name",
        },
      ])
      const aliased = record([
        { name: 'colour', type: { type: 'enum', name: 'Hue', aliases: ['Colour'], symbols: ['red'] } },
      ])
      expect(breakingChanges(aliased, colour(['red']))).toEqual([])
    })

    it('fails a symbol removed from the real ActorType, at actor.type and on_behalf_of.type', () => {
      const v2 = auditEvent((s) => {
        ;(fieldOf(s, 'actor.type').type as { symbols: string[] }).symbols = ['user', 'service']
      })
      expect(found(breakingChanges(v2, auditEvent()))).toEqual([
        ['ENUM_SYMBOL_REMOVED', 'actor.type'],
        ['ENUM_SYMBOL_REMOVED', 'on_behalf_of.type'],
      ])
    })
  })

  describe('unions', () => {
    const value = (type: AvroSchemaDefinition) => record([{ name: 'value', type }])

    it.each([
      { change: 'string -> [null, string]', from: 'string', to: ['null', 'string'] },
      { change: 'a branch added', from: ['null', 'string'], to: ['null', 'string', 'long'] },
      { change: 'branches reordered', from: ['null', 'string'], to: ['string', 'null'] },
      { change: 'a branch promoted inside', from: ['null', 'int'], to: ['null', 'long'] },
      {
        change: '[null, int] -> [null, long, string]',
        from: ['null', 'int'],
        to: ['null', 'long', 'string'],
      },
    ])('passes $change', ({ from, to }) => {
      expect(breakingChanges(value(to), value(from))).toEqual([])
    })

    it('fails a union that lost a branch old data may hold, naming the branch', () => {
      expect(breakingChanges(value(['null', 'string']), value(['null', 'string', 'long']))).toEqual([
        {
          kind: 'UNION_BRANCH_REMOVED',
          path: 'value',
          message:
            "field 'value' can no longer hold long: it changed from [null, string, long] to [null, string], and old data holding long cannot be read",
        },
      ])
    })

    it('fails an optional field made required (the real object.id2)', () => {
      const v2 = auditEvent((s) => {
        const id2 = fieldOf(s, 'object.id2')
        id2.type = 'string'
        delete id2.default
      })
      expect(breakingChanges(v2, auditEvent())).toEqual([
        {
          kind: 'UNION_BRANCH_REMOVED',
          path: 'object.id2',
          message:
            "field 'object.id2' can no longer hold null: it changed from [null, string] to string, and old data holding null cannot be read",
        },
      ])
    })

    it('fails a plain type moved into a union with no branch that reads it', () => {
      expect(breakingChanges(value(['null', 'long']), value('string'))).toEqual([
        {
          kind: 'TYPE_CHANGED',
          path: 'value',
          message:
            "field 'value' changed type from string to [null, long]: no branch of [null, long] can read string",
        },
      ])
    })

    it('fails a union replaced by a type none of its branches promotes to', () => {
      expect(found(breakingChanges(value('int'), value(['null', 'string'])))).toEqual([
        ['TYPE_CHANGED', 'value'],
      ])
    })

    it('looks inside a record branch: a field added to the real Actor without a default', () => {
      const v2 = auditEvent((s) => addField(s, 'actor', { name: 'department', type: 'string' }))
      // Actor is defined under `actor` and referenced by name in the union `on_behalf_of`.
      expect(breakingChanges(v2, auditEvent())).toEqual([
        {
          kind: 'FIELD_ADDED_WITHOUT_DEFAULT',
          path: 'actor.department',
          message: "field 'actor.department' was added without a default: old data has no value for it",
        },
        {
          kind: 'FIELD_ADDED_WITHOUT_DEFAULT',
          path: 'on_behalf_of.department',
          message:
            "field 'on_behalf_of.department' was added without a default: old data has no value for it",
        },
      ])
    })

    it('passes an optional field added to a record referenced by name in a union', () => {
      const v2 = auditEvent((s) =>
        addField(s, 'actor', { name: 'department', type: ['null', 'string'], default: null }),
      )
      expect(breakingChanges(v2, auditEvent())).toEqual([])
    })

    it('tells apart two record branches of one union', () => {
      const a = { type: 'record', name: 'A', fields: [{ name: 'x', type: 'string' }] }
      const b = { type: 'record', name: 'B', fields: [{ name: 'y', type: 'string' }] }
      const b2 = { ...b, fields: [{ name: 'y', type: 'long' }] }
      expect(found(breakingChanges(value([a, b2]), value([a, b])))).toEqual([['TYPE_CHANGED', 'value.y']])
    })
  })

  describe('named types and nesting', () => {
    it('fails a renamed record without an alias, passes one with the old name as alias', () => {
      const v1 = record([{ name: 'id', type: 'string' }])
      expect(found(breakingChanges({ ...v1, name: 'U' }, v1))).toEqual([['NAME_CHANGED', '']])
      expect(breakingChanges({ ...v1, name: 'U', aliases: ['test.T'] }, v1)).toEqual([])
    })

    it('fails the real Actor renamed without an alias, at each place it is used', () => {
      const v2 = auditEvent((s) => {
        const actor = fieldOf(s, 'actor').type as { name: string }
        actor.name = 'Person'
        fieldOf(s, 'on_behalf_of').type = ['null', 'Person']
      })
      expect(breakingChanges(v2, auditEvent())).toEqual([
        {
          kind: 'NAME_CHANGED',
          path: 'actor',
          message:
            "field 'actor' (record io.auditpipeline.v1.Actor) was renamed to io.auditpipeline.v1.Person without an alias for the old name",
        },
        expect.objectContaining({ kind: 'NAME_CHANGED', path: 'on_behalf_of' }),
      ])
    })

    it('fails a changed fixed size', () => {
      const hash = (size: number) => record([{ name: 'hash', type: { type: 'fixed', name: 'Hash', size } }])
      expect(breakingChanges(hash(32), hash(16))).toEqual([
        {
          kind: 'FIXED_SIZE_CHANGED',
          path: 'hash',
          message: "field 'hash' (fixed test.Hash) changed size from 16 to 32 bytes",
        },
      ])
    })

    it('names fields of records inside arrays: changes[].value_type', () => {
      const retyped = auditEvent((s) => {
        fieldOf(s, 'changes.value_type').type = 'long'
      })
      expect(breakingChanges(retyped, auditEvent())).toEqual([
        {
          kind: 'TYPE_CHANGED',
          path: 'changes[].value_type',
          message:
            "field 'changes[].value_type' changed type from string to long: Avro cannot read string data as long",
        },
      ])
      const added = auditEvent((s) => addField(s, 'changes', { name: 'unit', type: 'string' }))
      expect(found(breakingChanges(added, auditEvent()))).toEqual([
        ['FIELD_ADDED_WITHOUT_DEFAULT', 'changes[].unit'],
      ])
    })

    it('names map values: attributes{}', () => {
      const v2 = auditEvent((s) => {
        fieldOf(s, 'attributes').type = { type: 'map', values: 'long' }
      })
      expect(found(breakingChanges(v2, auditEvent()))).toEqual([['TYPE_CHANGED', 'attributes{}']])
    })

    it('names fields of records inside maps and arrays of arrays', () => {
      const item = (fields: FieldSchema[]) => ({ type: 'record', name: 'Item', fields })
      const nest = (fields: FieldSchema[]) =>
        record([
          {
            name: 'groups',
            type: { type: 'map', values: { type: 'array', items: { type: 'array', items: item(fields) } } },
          },
        ])
      const v1 = nest([{ name: 'a', type: 'int' }])
      const v2 = nest([
        { name: 'a', type: 'int' },
        { name: 'b', type: 'int' },
      ])
      expect(found(breakingChanges(v2, v1))).toEqual([['FIELD_ADDED_WITHOUT_DEFAULT', 'groups{}[][].b']])
    })

    it('walks a recursive schema once and still names the field', () => {
      const node = (fields: FieldSchema[]) =>
        record([
          { name: 'value', type: 'string' },
          ...fields,
          { name: 'next', type: ['null', 'test.T'], default: null },
        ])
      expect(breakingChanges(node([]), node([]))).toEqual([])
      expect(found(breakingChanges(node([{ name: 'weight', type: 'int' }]), node([])))).toEqual([
        ['FIELD_ADDED_WITHOUT_DEFAULT', 'weight'],
      ])
    })

    it('matches names without their namespace, as the specification does', () => {
      const v1 = record([{ name: 'id', type: 'string' }])
      expect(breakingChanges({ ...v1, namespace: 'other' }, v1)).toEqual([])
    })
  })

  it('throws SchemaInvalidError naming which schema is not valid Avro', () => {
    const invalid = record([{ name: 'n', type: ['null', 'int'], default: 3 }])
    expect(() => breakingChanges(invalid, record([]))).toThrow(SchemaInvalidError)
    expect(() => breakingChanges(invalid, record([]))).toThrow(/^the new schema is not a valid Avro schema: /)
    expect(() => breakingChanges(record([]), { type: 'recrod' })).toThrow(/^the old schema is not/)
  })
})
