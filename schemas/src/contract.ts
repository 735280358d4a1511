import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** This package's folder: the .avsc files sit beside src/ and dist/. */
export const schemasDir = join(dirname(fileURLToPath(import.meta.url)), '..')

/** An Avro schema as parsed JSON. */
export type AvroSchema = { type: string; name?: string; namespace?: string; [key: string]: unknown }

/**
 * A schema the pipeline registers, under a subject named after the record (RecordNameStrategy),
 * so the subject stays the same whatever topic carries the events.
 */
export type SchemaContract = {
  subject: string
  /** The working tree's schema file, relative to schemas/. */
  file: string
  /** Every subject is BACKWARD_TRANSITIVE: a new version reads all data ever written. */
  compatibility: 'BACKWARD_TRANSITIVE'
}

export const auditEventContract: SchemaContract = {
  subject: 'io.auditpipeline.v1.AuditEvent',
  file: 'audit-event.avsc',
  compatibility: 'BACKWARD_TRANSITIVE',
}

export const contracts: readonly SchemaContract[] = [auditEventContract]

export function readSchema(file: string): AvroSchema {
  return JSON.parse(readFileSync(join(schemasDir, file), 'utf8')) as AvroSchema
}

/** The working tree's version of a contract's schema. */
export function currentSchema(contract: SchemaContract): AvroSchema {
  return readSchema(contract.file)
}

/**
 * The versions released so far, oldest first: history/<subject>/v<N>.avsc. Append-only: a
 * released version is never edited, so the compatibility gate can check a new schema against
 * every one of them.
 */
export function releasedSchemas(contract: SchemaContract): { version: number; schema: AvroSchema }[] {
  const dir = join('history', contract.subject)
  return readdirSync(join(schemasDir, dir))
    .map((name) => /^v(\d+)\.avsc$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ version: Number(match[1]), schema: readSchema(join(dir, match[0])) }))
    .sort((a, b) => a.version - b.version)
}
