import avro from 'avsc'
import type { Type } from 'avsc'
import type { AvroSchema } from './contract.js'
import { SchemaInvalidError } from './schemaInvalidError.js'

/**
 * Why data written with an old schema cannot be read with a new one (Avro schema resolution, as
 * the registry's BACKWARD rule applies it: the new schema is the reader, the old one the writer).
 */
export const breakingChangeKinds = [
  /** A reader field with no writer field (by name or alias) and no default to fill it with. */
  'FIELD_ADDED_WITHOUT_DEFAULT',
  /** A type the old one cannot be promoted to (long -> string); int -> long and string -> bytes are fine. */
  'TYPE_CHANGED',
  /** Old symbols the new enum lacks, and no enum `default` to read them as. */
  'ENUM_SYMBOL_REMOVED',
  /** A branch of the old union, which old data may hold, that the new type cannot read. */
  'UNION_BRANCH_REMOVED',
  /** A record, enum or fixed renamed without the old name among its aliases. */
  'NAME_CHANGED',
  'FIXED_SIZE_CHANGED',
  /** A new field whose name and aliases match more than one old field. */
  'AMBIGUOUS_FIELD_ALIAS',
  /** avsc refuses the pair and the walk found no reason it knows: still a breaking change. */
  'UNRESOLVABLE',
] as const

export type BreakingChangeKind = (typeof breakingChangeKinds)[number]

export type BreakingChange = {
  kind: BreakingChangeKind
  /**
   * The field, from the top-level record: `actor.department`, `changes[].value_type` (`[]` is an
   * array's items), `attributes{}` (a map's values); empty for the top-level type itself.
   */
  path: string
  /** One sentence naming the field: `field 'actor.department' was added without a default`. */
  message: string
}

/** An Avro schema as parsed JSON: a record (or other complex type), a type name, or a union. */
export type AvroSchemaDefinition = AvroSchema | string | readonly (AvroSchema | string)[]

/**
 * What prevents a reader using `newSchema` from reading data written with `oldSchema`; empty
 * when every old value resolves. avsc's resolver is the authority on whether a pair resolves;
 * the walk here only says where and why. A pair avsc refuses always yields at least one change:
 * an `UNRESOLVABLE` one with avsc's message at the nearest path when the walk finds no reason.
 *
 * Names compare without their namespace, as the Avro specification's resolution rules (and the
 * registry's Java checker) do. Logical types are ignored: they do not change the encoding.
 * Throws SchemaInvalidError when either schema is not valid Avro.
 */
export function breakingChanges(
  newSchema: AvroSchemaDefinition | Type,
  oldSchema: AvroSchemaDefinition | Type,
): BreakingChange[] {
  const reader = newSchema instanceof avro.Type ? newSchema : parseSchema(newSchema, 'the new schema')
  const writer = oldSchema instanceof avro.Type ? oldSchema : parseSchema(oldSchema, 'the old schema')
  const walk = new ResolutionWalk()
  walk.explain(reader, writer, '')
  return walk.changes
}

/** Parses a schema with avsc; `label` names it in the error (`the new schema`, `released v2`). */
export function parseSchema(schema: AvroSchemaDefinition, label: string): Type {
  try {
    return avro.Type.forSchema(schema as avro.schema.AvroSchema)
  } catch (error) {
    throw new SchemaInvalidError(label, error instanceof Error ? error.message : String(error), {
      cause: error,
    })
  }
}

/** The Avro Parsing Canonical Form: names, types, fields and symbols only. */
export function canonicalForm(type: Type): string {
  return JSON.stringify(type.schema())
}

type Field = { name: string; aliases: string[]; type: Type; defaultValue(): unknown }

class ResolutionWalk {
  readonly changes: BreakingChange[] = []
  private readonly failures = new Map<Type, Map<Type, string | undefined>>()
  /** Record pairs being explained, so a recursive schema's cycle is walked once. */
  private readonly visiting = new Set<string>()

  /**
   * Explains why `writer` data cannot be read as `reader`. Returns false when it can; otherwise
   * true, having recorded at least one change at or below `path` (or met a cycle whose first
   * visit records them).
   */
  explain(reader: Type, writer: Type, path: string): boolean {
    const failure = this.failure(reader, writer)
    if (failure === undefined) return false
    let visit: string | undefined
    if (kindOf(reader) === 'record' && kindOf(writer) === 'record') {
      visit = `${reader.name ?? ''}\u0000${writer.name ?? ''}`
      if (this.visiting.has(visit)) return true
      this.visiting.add(visit)
    }
    try {
      if (!this.explainUnresolved(reader, writer, path)) {
        this.add('UNRESOLVABLE', path, `${where(path)} cannot be read from old data: ${failure}`)
      }
    } finally {
      if (visit !== undefined) this.visiting.delete(visit)
    }
    return true
  }

  /** avsc's reason for refusing the pair, or undefined when it resolves. */
  private failure(reader: Type, writer: Type): string | undefined {
    let byWriter = this.failures.get(reader)
    if (!byWriter) this.failures.set(reader, (byWriter = new Map<Type, string | undefined>()))
    if (byWriter.has(writer)) return byWriter.get(writer)
    let failure: string | undefined
    try {
      // A fresh options object each time: avsc keeps its record registry in it.
      reader.createResolver(writer, { ignoreNamespaces: true })
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error)
    }
    byWriter.set(writer, failure)
    return failure
  }

  private explainUnresolved(reader: Type, writer: Type, path: string): boolean {
    const readerBranches = isUnion(reader) ? unionBranches(reader) : [reader]

    // The old union is resolved branch by branch: each branch old data may hold must be readable.
    if (isUnion(writer)) {
      const writerBranches = unionBranches(writer)
      const failing = writerBranches
        .filter((branch) => this.failure(reader, branch) !== undefined)
        .map((branch) => ({ branch, counterpart: counterpart(readerBranches, branch) }))
      if (failing.length === writerBranches.length && failing.every((f) => f.counterpart === undefined)) {
        this.typeChanged(reader, writer, path)
        return true
      }
      let explained = false
      for (const { branch, counterpart } of failing) {
        if (counterpart) {
          explained = this.explain(counterpart, branch, path) || explained
        } else {
          this.add(
            'UNION_BRANCH_REMOVED',
            path,
            `${where(path)} can no longer hold ${describe(branch)}: it changed from ${describe(writer)} to ` +
              `${describe(reader)}, and old data holding ${describe(branch)} cannot be read`,
          )
          explained = true
        }
      }
      return explained
    }

    // The reader's union reads a plain old type with the branch that matches it.
    if (isUnion(reader)) {
      const match = counterpart(readerBranches, writer)
      if (match) return this.explain(match, writer, path)
      this.typeChanged(reader, writer, path)
      return true
    }

    const kind = kindOf(reader)
    if (kind !== kindOf(writer)) {
      this.typeChanged(reader, writer, path)
      return true
    }
    switch (kind) {
      case 'record':
        return this.explainRecord(reader, writer, path)
      case 'enum':
        return this.explainEnum(reader, writer, path)
      case 'fixed':
        return this.explainFixed(reader, writer, path)
      case 'array':
        return this.explain(itemsOf(reader), itemsOf(writer), `${path}[]`)
      case 'map':
        return this.explain(valuesOf(reader), valuesOf(writer), `${path}{}`)
      default:
        // Two primitives of one kind always resolve: nothing the walk knows.
        return false
    }
  }

  private explainRecord(reader: Type, writer: Type, path: string): boolean {
    let explained = this.checkName(reader, writer, path)
    const writerFields = fieldsOf(writer)
    for (const field of fieldsOf(reader)) {
      const fieldPath = path === '' ? field.name : `${path}.${field.name}`
      const names = [field.name, ...field.aliases]
      const matches = writerFields.filter((old) => names.includes(old.name))
      const [match] = matches
      if (matches.length > 1) {
        this.add(
          'AMBIGUOUS_FIELD_ALIAS',
          fieldPath,
          `field '${fieldPath}' matches several old fields by name or alias: ` +
            matches.map((m) => `'${m.name}'`).join(', '),
        )
        explained = true
      } else if (match) {
        explained = this.explain(field.type, match.type, fieldPath) || explained
      } else if (field.defaultValue() === undefined) {
        const aliases = field.aliases.length > 0 ? ` (nor under its aliases ${field.aliases.join(', ')})` : ''
        this.add(
          'FIELD_ADDED_WITHOUT_DEFAULT',
          fieldPath,
          `field '${fieldPath}' was added without a default${aliases}: old data has no value for it`,
        )
        explained = true
      }
    }
    return explained
  }

  private explainEnum(reader: Type, writer: Type, path: string): boolean {
    const explained = this.checkName(reader, writer, path)
    const { symbols, default: fallback } = enumOf(reader)
    const removed = enumOf(writer).symbols.filter((symbol) => !symbols.includes(symbol))
    if (removed.length === 0 || fallback !== undefined) return explained
    this.add(
      'ENUM_SYMBOL_REMOVED',
      path,
      `${where(path)} (enum ${describe(reader)}) lost symbol${removed.length > 1 ? 's' : ''} ` +
        `${removed.map((s) => `'${s}'`).join(', ')}, which old data may hold, and the enum has no default`,
    )
    return true
  }

  private explainFixed(reader: Type, writer: Type, path: string): boolean {
    const explained = this.checkName(reader, writer, path)
    const [newSize, oldSize] = [sizeOf(reader), sizeOf(writer)]
    if (newSize === oldSize) return explained
    this.add(
      'FIXED_SIZE_CHANGED',
      path,
      `${where(path)} (fixed ${describe(reader)}) changed size from ${oldSize} to ${newSize} bytes`,
    )
    return true
  }

  /** Records, enums and fixed types resolve only by name: the old name, or an alias naming it. */
  private checkName(reader: Type, writer: Type, path: string): boolean {
    if (namesMatch(reader, writer)) return false
    this.add(
      'NAME_CHANGED',
      path,
      `${where(path)} (${kindOf(reader)} ${describe(writer)}) was renamed to ${describe(reader)} ` +
        `without an alias for the old name`,
    )
    return true
  }

  private typeChanged(reader: Type, writer: Type, path: string): void {
    const why = isUnion(reader)
      ? `no branch of ${describe(reader)} can read ${describe(writer)}`
      : `Avro cannot read ${describe(writer)} data as ${describe(reader)}`
    this.add(
      'TYPE_CHANGED',
      path,
      `${where(path)} changed type from ${describe(writer)} to ${describe(reader)}: ${why}`,
    )
  }

  private add(kind: BreakingChangeKind, path: string, message: string): void {
    this.changes.push({ kind, path, message })
  }
}

function where(path: string): string {
  return path === '' ? 'the top-level type' : `field '${path}'`
}

/** `union`, `record` (errors too), `enum`, `fixed`, `array`, `map`, or the primitive's name. */
function kindOf(type: Type): string {
  if (isUnion(type)) return 'union'
  // avsc reads records and errors as each other.
  return type.typeName === 'error' ? 'record' : type.typeName
}

function isUnion(type: Type): boolean {
  return avro.Type.isType(type, 'union')
}

function isNamed(type: Type): boolean {
  const kind = kindOf(type)
  return kind === 'record' || kind === 'enum' || kind === 'fixed'
}

/** The reader branch that should read `writer`: same kind and name, or the only one of its kind. */
function counterpart(readerBranches: readonly Type[], writer: Type): Type | undefined {
  const sameKind = readerBranches.filter((branch) => kindOf(branch) === kindOf(writer))
  if (!isNamed(writer)) {
    // A primitive of the same kind would have resolved; arrays and maps are compared inside.
    return kindOf(writer) === 'array' || kindOf(writer) === 'map' ? sameKind[0] : undefined
  }
  return (
    sameKind.find((branch) => namesMatch(branch, writer)) ?? (sameKind.length === 1 ? sameKind[0] : undefined)
  )
}

function namesMatch(reader: Type, writer: Type): boolean {
  if (writer.name === undefined) return true
  const names = [reader.name, ...(reader.aliases ?? [])].filter((n): n is string => n !== undefined)
  return names.map(unqualified).includes(unqualified(writer.name))
}

function unqualified(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1)
}

/** A type as people read it: `string`, `io.auditpipeline.v1.Actor`, `array<string>`, `[null, string]`. */
function describe(type: Type): string {
  if (isUnion(type)) return `[${unionBranches(type).map(describe).join(', ')}]`
  switch (kindOf(type)) {
    case 'array':
      return `array<${describe(itemsOf(type))}>`
    case 'map':
      return `map<${describe(valuesOf(type))}>`
    default:
      return type.name ?? type.typeName
  }
}

// avsc's typings describe each type class only partly; these read what the walk needs.

function unionBranches(type: Type): readonly Type[] {
  return (type as unknown as { types: readonly Type[] }).types
}

function fieldsOf(type: Type): readonly Field[] {
  return (type as unknown as { fields: readonly Field[] }).fields
}

function enumOf(type: Type): { symbols: readonly string[]; default: string | undefined } {
  const { symbols, default: fallback } = type as unknown as { symbols: readonly string[]; default?: string }
  return { symbols, default: fallback }
}

function sizeOf(type: Type): number {
  return (type as unknown as { size: number }).size
}

function itemsOf(type: Type): Type {
  return (type as unknown as { itemsType: Type }).itemsType
}

function valuesOf(type: Type): Type {
  return (type as unknown as { valuesType: Type }).valuesType
}
