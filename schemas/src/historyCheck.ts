import type { Type } from 'avsc'
import {
  breakingChanges,
  canonicalForm,
  parseSchema,
  type AvroSchemaDefinition,
  type BreakingChange,
} from './breakingChanges.js'

/** One released version of a subject's schema (history/<subject>/v<version>.avsc). */
export type ReleasedSchema = { version: number; schema: AvroSchemaDefinition }

export type VersionCheck = {
  version: number
  /** Why data written with this version cannot be read with the checked schema; empty when it can. */
  breakingChanges: BreakingChange[]
}

/**
 * Where the checked schema stands in the history:
 * - `latest`: it is the latest released version (the same JSON, whatever the formatting and key order);
 * - `unreleased`: it differs from the latest released version (or nothing is released yet), so
 *   releasing it adds `nextVersion`. `canonicalFormChanged` is false when only documentation, defaults, aliases or
 *   other attributes outside the Parsing Canonical Form changed: still a new version to register.
 */
export type ReleaseStatus =
  | { status: 'latest'; version: number }
  | {
      status: 'unreleased'
      nextVersion: number
      latestVersion: number | undefined
      canonicalFormChanged: boolean
    }

export type HistoryCheck = {
  /** True when every released version reads as the checked schema (BACKWARD_TRANSITIVE). */
  compatible: boolean
  /** One entry per released version, oldest first. */
  versions: VersionCheck[]
  release: ReleaseStatus
}

/**
 * Checks `current` against every released version (BACKWARD_TRANSITIVE: a reader with `current`
 * must read data written with any of them), and says whether it is the latest release or a new
 * version. Pure; throws SchemaInvalidError naming the schema (`the current schema`, `released v2`)
 * when one is not valid Avro.
 */
export function checkAgainstHistory(
  current: AvroSchemaDefinition,
  released: readonly ReleasedSchema[],
): HistoryCheck {
  const reader = parseSchema(current, 'the current schema')
  const history = [...released]
    .sort((a, b) => a.version - b.version)
    .map(({ version, schema }) => ({ version, schema, type: parseSchema(schema, `released v${version}`) }))
  const versions = history.map(({ version, type }) => ({
    version,
    breakingChanges: breakingChanges(reader, type),
  }))
  return {
    compatible: versions.every((v) => v.breakingChanges.length === 0),
    versions,
    release: releaseStatus(current, reader, history.at(-1)),
  }
}

function releaseStatus(
  current: AvroSchemaDefinition,
  reader: Type,
  latest: { version: number; schema: AvroSchemaDefinition; type: Type } | undefined,
): ReleaseStatus {
  if (latest && sameSchema(current, latest.schema)) return { status: 'latest', version: latest.version }
  return {
    status: 'unreleased',
    nextVersion: (latest?.version ?? 0) + 1,
    latestVersion: latest?.version,
    canonicalFormChanged: !latest || canonicalForm(reader) !== canonicalForm(latest.type),
  }
}

/**
 * The same schema, whatever the whitespace and key order. Everything else counts, documentation
 * included: the registry stores the text, so a changed `doc` is a version of its own.
 */
export function sameSchema(a: AvroSchemaDefinition, b: AvroSchemaDefinition): boolean {
  return JSON.stringify(sortedKeys(a)) === JSON.stringify(sortedKeys(b))
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, inner]) => [key, sortedKeys(inner)]),
  )
}
