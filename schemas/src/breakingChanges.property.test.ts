import avro from 'avsc'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { breakingChanges } from './breakingChanges.js'
import type { AvroSchema } from './contract.js'

/**
 * The walk against avsc over random schema pairs: a change is reported exactly when avsc refuses
 * the pair, and the walk always knows why (never UNRESOLVABLE). Named types get names from their
 * path, so both sides' named types line up as a schema's successive versions do.
 */
type Json = unknown
type FieldJson = { name: string; type: Json; default?: Json; aliases?: string[] }
type RecordJson = { type: 'record'; name: string; aliases?: string[]; fields: FieldJson[] }
type EnumJson = { type: 'enum'; name: string; symbols: string[]; default?: string; aliases?: string[] }
type FixedJson = { type: 'fixed'; name: string; size: number; aliases?: string[] }

const primitives = ['int', 'long', 'float', 'double', 'string', 'bytes', 'boolean'] as const
const fieldNames = ['a', 'b', 'c'] as const
const nameAt = (path: string) => `N_${path}`

/** A valid default for a field of this type, where one is easy to write. */
function defaultFor(type: Json): Json {
  if (Array.isArray(type)) return defaultFor(type[0])
  switch (typeof type === 'string' ? type : (type as { type: string }).type) {
    case 'null':
      return null
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 0
    case 'string':
    case 'bytes':
      return ''
    case 'boolean':
      return false
    case 'array':
      return []
    case 'map':
      return {}
    case 'enum':
      return (type as EnumJson).symbols[0]
    default:
      return undefined // fixed and records: possible, but not needed here
  }
}

function field(name: string, type: Json, withDefault: boolean, aliases: readonly string[] = []): FieldJson {
  const fallback = withDefault ? defaultFor(type) : undefined
  return {
    name,
    type,
    ...(fallback !== undefined && { default: fallback }),
    ...(aliases.length > 0 && { aliases: [...aliases] }),
  }
}

function typeAt(path: string, depth: number): fc.Arbitrary<Json> {
  const leaves: fc.Arbitrary<Json>[] = [
    fc.constantFrom(...primitives),
    fc
      .record({ symbols: fc.subarray(['x', 'y', 'z'], { minLength: 1 }), withDefault: fc.boolean() })
      .map(({ symbols, withDefault }) => ({
        type: 'enum',
        name: nameAt(path),
        symbols,
        ...(withDefault && { default: symbols[0] }),
      })),
    fc.integer({ min: 1, max: 3 }).map((size) => ({ type: 'fixed', name: nameAt(path), size })),
    fc
      .subarray(['null', 'int', 'long', 'string', 'bytes'], { minLength: 1 })
      .chain((branches) => fc.shuffledSubarray(branches, { minLength: branches.length })),
  ]
  if (depth === 0) return fc.oneof(...leaves)
  const inner = typeAt(`${path}_i`, depth - 1)
  return fc.oneof(
    ...leaves,
    inner.filter((type) => !Array.isArray(type)).map((type) => ['null', type]),
    inner.map((items) => ({ type: 'array', items })),
    inner.map((values) => ({ type: 'map', values })),
    recordAt(path, depth - 1),
  )
}

function recordAt(path: string, depth: number, aliases = false): fc.Arbitrary<RecordJson> {
  const fieldAt = (name: string) =>
    fc.option(
      fc.record({
        type: typeAt(`${path}_${name}`, depth),
        withDefault: fc.boolean(),
        aliases: aliases ? fc.subarray(fieldNames.filter((n) => n !== name)) : fc.constant([]),
      }),
    )
  return fc.tuple(...fieldNames.map(fieldAt)).map((fields) => ({
    type: 'record',
    name: nameAt(path),
    fields: fields.flatMap((f, i) =>
      f === null ? [] : [field(fieldNames[i]!, f.type, f.withDefault, f.aliases)],
    ),
  }))
}

/** Renamed, keeping the old name as an alias or not. */
function renamed<T extends { name: string; aliases?: string[] }>(named: T): fc.Arbitrary<T> {
  return fc
    .boolean()
    .map((alias) => ({ ...named, name: `${named.name}_v2`, ...(alias && { aliases: [named.name] }) }))
}

/** A next version of `type`, mostly small edits of the kinds schemas go through. */
function evolve(type: Json, path: string): fc.Arbitrary<Json> {
  const same = { weight: 4, arbitrary: fc.constant(type) }
  if (typeof type === 'string') {
    return fc.oneof(same, fc.constantFrom(...primitives), fc.constant(['null', type]))
  }
  if (Array.isArray(type)) {
    const union = type as Json[]
    const extra = ['null', 'int', 'long', 'string', 'bytes'].filter((b) => !union.includes(b))
    return fc.oneof(
      same,
      fc
        .tuple(...union.map((branch) => evolve(branch, path)))
        .filter(
          (u) =>
            u.every((b) => !Array.isArray(b)) && new Set(u.map((b) => JSON.stringify(b))).size === u.length,
        ),
      fc.subarray(union, { minLength: 1 }),
      fc.constantFrom(...union),
      ...(extra.length > 0 ? [fc.constantFrom(...extra).map((b) => [...union, b])] : []),
    )
  }
  const complex = type as { type: string }
  switch (complex.type) {
    case 'enum': {
      const e = type as EnumJson
      return fc.oneof(
        same,
        fc
          .record({ symbols: fc.subarray(['x', 'y', 'z', 'w'], { minLength: 1 }), withDefault: fc.boolean() })
          .map(({ symbols, withDefault }) => {
            const next: EnumJson = { ...e, symbols }
            if (withDefault) next.default = symbols[0]
            else delete next.default
            return next
          }),
        renamed(e),
      )
    }
    case 'fixed': {
      const f = type as FixedJson
      return fc.oneof(
        same,
        fc.constantFrom(f.size - 1, f.size + 1).map((size) => ({ ...f, size: Math.max(size, 1) })),
        renamed(f),
      )
    }
    case 'array':
      return evolve((type as { items: Json }).items, `${path}_i`).map((items) => ({ type: 'array', items }))
    case 'map':
      return evolve((type as { values: Json }).values, `${path}_i`).map((values) => ({ type: 'map', values }))
    default:
      return evolveRecord(type as RecordJson, path)
  }
}

function evolveRecord(record: RecordJson, path: string): fc.Arbitrary<RecordJson> {
  const kept = record.fields.map((f) =>
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          type: evolve(f.type, `${path}_${f.name}`),
          withDefault: fc.boolean(),
          name: fc.constantFrom('same', 'same', 'same', 'renamed', 'aliased'),
        }),
      },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
  )
  const added = fc.option(fc.record({ type: typeAt(`${path}_d`, 1), withDefault: fc.boolean() }))
  const name = fc.oneof({ weight: 6, arbitrary: fc.constant(record) }, renamed(record))
  return fc.tuple(fc.tuple(...kept), added, name).map(([fields, extra, { name, aliases }]) => ({
    type: 'record',
    name,
    ...(aliases && { aliases }),
    fields: [
      ...fields.flatMap((f, i) => {
        const old = record.fields[i]!
        if (f === null) return []
        if (f.name === 'same') return [field(old.name, f.type, f.withDefault)]
        return [field(`${old.name}2`, f.type, f.withDefault, f.name === 'aliased' ? [old.name] : [])]
      }),
      ...(extra ? [field('d', extra.type, extra.withDefault)] : []),
    ],
  }))
}

function avscResolves(newSchema: Json, oldSchema: Json): boolean {
  try {
    avro.Type.forSchema(newSchema as avro.schema.AvroSchema).createResolver(
      avro.Type.forSchema(oldSchema as avro.schema.AvroSchema),
      { ignoreNamespaces: true },
    )
    return true
  } catch {
    return false
  }
}

function agreesWithAvsc(newSchema: Json, oldSchema: Json): boolean {
  const changes = breakingChanges(newSchema as AvroSchema, oldSchema as AvroSchema)
  expect(changes.filter((c) => c.kind === 'UNRESOLVABLE')).toEqual([])
  expect(changes.length === 0).toBe(avscResolves(newSchema, oldSchema))
  return changes.length === 0
}

describe('breakingChanges on random schema pairs', () => {
  it('agrees with avsc on unrelated schemas, aliases included, and always knows why', () => {
    const schema = recordAt('root', 2, true)
    fc.assert(
      fc.property(schema, schema, (newSchema, oldSchema) => void agreesWithAvsc(newSchema, oldSchema)),
      {
        numRuns: 200,
      },
    )
  })

  it('agrees with avsc on evolved schemas, compatible and not, and always knows why', () => {
    const pairs = recordAt('root', 2).chain((old) =>
      evolveRecord(old, 'root').map((next) => [next, old] as const),
    )
    let compatible = 0
    const runs = 400
    fc.assert(
      fc.property(pairs, ([newSchema, oldSchema]) => {
        if (agreesWithAvsc(newSchema, oldSchema)) compatible += 1
      }),
      { numRuns: runs },
    )
    // Both outcomes are exercised (about a fifth of the pairs are compatible), so agreement
    // means something either way.
    expect(compatible).toBeGreaterThan(runs / 20)
    expect(compatible).toBeLessThan(runs - runs / 20)
  })
})
