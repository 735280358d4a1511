import type { Type } from 'avsc'
import { breakingChanges, parseSchema, type AvroSchemaDefinition } from './breakingChanges.js'
import type { ReleasedSchema, VersionCheck } from './historyCheck.js'
import { registryRequest, unexpectedBody, type RegistryRequest } from './registryHttp.js'
import type { SchemaRegistryError } from './schemaRegistryError.js'

/** Every subject's level: a new version must read data written with any registered version. */
export const requiredCompatibilityLevel = 'BACKWARD_TRANSITIVE'

const defaultRequestTimeoutMs = 10_000

export type RegistryOptions = {
  /** The Confluent-compatible API's base URL, e.g. http://127.0.0.1:8080/apis/ccompat/v7. */
  registryUrl: string
  subject: string
  /** Per request; default 10 000 ms. */
  requestTimeoutMs?: number
}

export type RegistryCheck = {
  registryUrl: string
  subject: string
  /** The versions registered under the subject, oldest first; empty when the registry does not know it. */
  registeredVersions: number[]
  /**
   * GET /config/{subject}. Apicurio answers the global level for a subject without one of its own,
   * and 404 (undefined here) for a subject it does not know.
   */
  compatibilityLevel: string | undefined
  /** The level is BACKWARD_TRANSITIVE; under any other, the registry's verdict is not ours. */
  compatibilityLevelOk: boolean
  /**
   * The registry's verdict against all registered versions, under the subject's level. Undefined
   * when nothing is registered: there is nothing to check against (Apicurio answers 404 here,
   * and a vacuous `true` for /versions/latest).
   */
  compatible: boolean | undefined
  /**
   * The local walk against each registered version, as the registry stores it: the field-level
   * reasons behind a refusal (the registry's compatibility endpoint gives none, even with
   * `?verbose=true`), and a second opinion when the level is not BACKWARD_TRANSITIVE.
   */
  versions: VersionCheck[]
}

/**
 * Asks the registry whether `schema` may be registered under `subject` (POST
 * /compatibility/subjects/{subject}/versions, without a version: against all registered
 * versions, where /versions/latest would check only the latest), and reads the subject's level
 * and versions. Throws SchemaRegistryError naming the URL when the registry is unreachable or
 * answers unexpectedly, SchemaInvalidError when `schema` or a registered version is not valid Avro.
 */
export async function checkWithRegistry(
  options: RegistryOptions & { schema: AvroSchemaDefinition },
): Promise<RegistryCheck> {
  const { registryUrl, subject, schema } = options
  const reader = parseSchema(schema, `the schema checked against ${subject}`)
  const registry = registryFor(options)

  const [registeredVersions, compatibilityLevel] = await Promise.all([
    readVersions(registry, subject),
    readCompatibilityLevel(registry, subject),
  ])
  const base = {
    registryUrl,
    subject,
    registeredVersions,
    compatibilityLevel,
    compatibilityLevelOk: compatibilityLevel === requiredCompatibilityLevel,
  }
  if (registeredVersions.length === 0) return { ...base, compatible: undefined, versions: [] }

  const verdict: Call = {
    method: 'POST',
    path: `/compatibility/subjects/${encodeURIComponent(subject)}/versions`,
    body: { schema: JSON.stringify(schema) },
  }
  const [answer, versions] = await Promise.all([
    registry.send(verdict),
    Promise.all(
      registeredVersions.map(async (version) => ({
        version,
        breakingChanges: breakingChanges(reader, await readRegisteredSchema(registry, subject, version)),
      })),
    ),
  ])
  const compatible = propertyOf(answer, 'is_compatible')
  if (typeof compatible !== 'boolean')
    throw registry.unexpected(verdict, answer, '{"is_compatible": <boolean>}')
  return { ...base, compatible, versions }
}

/**
 * Loads a registry that has no history for `subject` (a fresh test registry, a new environment):
 * sets the subject to BACKWARD_TRANSITIVE, then registers each released version, oldest first,
 * so the registry enforces the rule between them too. Registering a version the subject already
 * has adds nothing. Answers the schema id of each version.
 */
export async function registerHistory(
  options: RegistryOptions & { versions: readonly ReleasedSchema[] },
): Promise<{ version: number; id: number }[]> {
  const { subject } = options
  const registry = registryFor(options)
  const config: Call = {
    method: 'PUT',
    path: `/config/${encodeURIComponent(subject)}`,
    body: { compatibility: requiredCompatibilityLevel },
  }
  const answer = await registry.send(config)
  if (propertyOf(answer, 'compatibility') !== requiredCompatibilityLevel) {
    throw registry.unexpected(config, answer, `{"compatibility": "${requiredCompatibilityLevel}"}`)
  }

  const registered: { version: number; id: number }[] = []
  for (const { version, schema } of [...options.versions].sort((a, b) => a.version - b.version)) {
    const register: Call = {
      method: 'POST',
      path: `/subjects/${encodeURIComponent(subject)}/versions`,
      body: { schema: JSON.stringify(schema) },
      rejectedSchema: `v${version} of ${subject}`,
    }
    // One at a time: the registry checks each version against the ones before it.
    const created = await registry.send(register)
    const id = propertyOf(created, 'id')
    if (typeof id !== 'number') throw registry.unexpected(register, created, '{"id": <number>}')
    registered.push({ version, id })
  }
  return registered
}

type Call = Omit<RegistryRequest, 'registryUrl' | 'timeoutMs'>

type Registry = {
  send(call: Call): Promise<unknown>
  unexpected(call: Call, body: unknown, expected: string): SchemaRegistryError
}

function registryFor(options: RegistryOptions): Registry {
  const request = (call: Call): RegistryRequest => ({
    registryUrl: options.registryUrl,
    timeoutMs: options.requestTimeoutMs ?? defaultRequestTimeoutMs,
    ...call,
  })
  return {
    send: (call) => registryRequest(request(call)),
    unexpected: (call, body, expected) => unexpectedBody(request(call), body, expected),
  }
}

async function readVersions(registry: Registry, subject: string): Promise<number[]> {
  const call: Call = {
    method: 'GET',
    path: `/subjects/${encodeURIComponent(subject)}/versions`,
    subjectMayBeMissing: true,
  }
  const versions = await registry.send(call)
  if (versions === undefined) return []
  if (!Array.isArray(versions) || !versions.every((v) => Number.isInteger(v))) {
    throw registry.unexpected(call, versions, 'a list of version numbers')
  }
  return (versions as number[]).toSorted((a, b) => a - b)
}

async function readCompatibilityLevel(registry: Registry, subject: string): Promise<string | undefined> {
  const call: Call = {
    method: 'GET',
    path: `/config/${encodeURIComponent(subject)}`,
    subjectMayBeMissing: true,
  }
  const config = await registry.send(call)
  if (config === undefined) return undefined
  const level = propertyOf(config, 'compatibilityLevel')
  if (typeof level !== 'string') throw registry.unexpected(call, config, '{"compatibilityLevel": <level>}')
  return level
}

async function readRegisteredSchema(registry: Registry, subject: string, version: number): Promise<Type> {
  const call: Call = { method: 'GET', path: `/subjects/${encodeURIComponent(subject)}/versions/${version}` }
  const answer = await registry.send(call)
  const text = propertyOf(answer, 'schema')
  let schema: unknown
  try {
    schema = typeof text === 'string' ? JSON.parse(text) : undefined
  } catch {
    schema = undefined
  }
  if (schema === undefined) throw registry.unexpected(call, answer, '{"schema": "<schema as JSON text>"}')
  return parseSchema(schema as AvroSchemaDefinition, `version ${version} registered under ${subject}`)
}

function propertyOf(body: unknown, key: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined
}
