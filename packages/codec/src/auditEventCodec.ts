import avro from 'avsc'
import { SchemaType, COMPATIBILITY, type SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { EventInvalidError, type AuditEvent } from '@audit-pipeline/event-model'
import { auditEventContract, currentSchema, type SchemaContract } from '@audit-pipeline/schemas'
import { CodecError } from './codecError.js'
import { readWireHeader, wireHeaderBytes, writeWireHeader } from './wireFormat.js'

export type AuditEventCodecOptions = {
  registry: SchemaRegistry
  contract?: SchemaContract
  /**
   * Register the working schema if the registry does not have it yet (development). When false,
   * the schema must already be registered (production: `audit-pipeline schemas register` in
   * CI), and a missing one is an error.
   */
  autoRegister?: boolean
  /** Largest encoded event accepted; Kafka's default message limit is 1 MiB. */
  maxEventBytes?: number
}

export type AuditEventCodec = {
  /** The registry id of the schema events are written with. */
  readonly schemaId: number
  /** Avro-encodes one event in the Confluent wire format; EventInvalidError names a bad field. */
  encode(event: AuditEvent): Buffer
  /** Decodes a message written with any registered version into the current form. */
  decode(message: Buffer): Promise<AuditEvent>
}

export const defaultMaxEventBytes = 1024 * 1024

/**
 * Encoding uses avsc directly with the schema it registered (the hot path stays synchronous and
 * allocation-light); decoding resolves each writer schema once, fetched from the registry by id,
 * against the current schema, so events written by older producers arrive in today's shape.
 */
export async function createAuditEventCodec(options: AuditEventCodecOptions): Promise<AuditEventCodec> {
  const contract = options.contract ?? auditEventContract
  const maxEventBytes = options.maxEventBytes ?? defaultMaxEventBytes
  const schema = currentSchema(contract)
  const type = avro.Type.forSchema(schema as avro.Schema)
  const schemaId = await registeredId(
    options.registry,
    contract,
    JSON.stringify(schema),
    options.autoRegister ?? true,
  )

  // Events are written into one reused buffer and copied out once, with the wire header in
  // front: avsc's toBuffer would copy once more.
  let scratch = Buffer.allocUnsafe(64 * 1024)
  const writeBody = (event: AuditEvent): number => {
    for (;;) {
      const end = type.encode(event, scratch, wireHeaderBytes)
      if (end >= 0) return end
      // A negative end is the bytes missing.
      scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end))
    }
  }

  const readers = new Map<number, Promise<(body: Buffer) => AuditEvent>>()
  const readerFor = (writerId: number) => {
    let reader = readers.get(writerId)
    if (!reader) {
      reader = writerReader(options.registry, writerId, type, schemaId)
      // A failed fetch is not cached: the next message retries it.
      reader.catch(() => readers.delete(writerId))
      readers.set(writerId, reader)
    }
    return reader
  }

  return {
    schemaId,
    encode(event) {
      if (Object.hasOwn(event.attributes, '__proto__')) throw new EventInvalidError([protoAttribute])
      let end: number
      try {
        end = writeBody(event)
      } catch (error) {
        throw new EventInvalidError(invalidPaths(type, event, error))
      }
      if (end > maxEventBytes) {
        throw new EventInvalidError([
          {
            field: '(event)',
            message: `encoded event is ${end} bytes, over the ${maxEventBytes}-byte limit; move large content out of snapshots and attributes`,
          },
        ])
      }
      return writeWireHeader(schemaId, scratch.subarray(wireHeaderBytes, end))
    },
    async decode(message) {
      const wire = readWireHeader(message)
      if (!wire) {
        throw new CodecError(
          'EVENT_UNDECODABLE',
          'not in the Confluent wire format (no magic byte 0 and schema id)',
          false,
        )
      }
      const read = await readerFor(wire.schemaId)
      try {
        return read(wire.body)
      } catch (error) {
        throw new CodecError(
          'EVENT_UNDECODABLE',
          `body does not decode with schema id ${wire.schemaId}: ${(error as Error).message}`,
          false,
          { cause: error },
        )
      }
    },
  }
}

async function registeredId(
  registry: SchemaRegistry,
  contract: SchemaContract,
  schemaText: string,
  autoRegister: boolean,
): Promise<number> {
  const confluentSchema = { type: SchemaType.AVRO as const, schema: schemaText }
  try {
    if (autoRegister) {
      const { id } = await registry.register(confluentSchema, {
        subject: contract.subject,
        compatibility: COMPATIBILITY[contract.compatibility],
      })
      return id
    }
    return await registry.getRegistryIdBySchema(contract.subject, confluentSchema)
  } catch (error) {
    throw registryError(error, `schema for subject ${contract.subject}`)
  }
}

async function writerReader(
  registry: SchemaRegistry,
  writerId: number,
  readerType: avro.Type,
  readerId: number,
): Promise<(body: Buffer) => AuditEvent> {
  if (writerId === readerId) return (body) => readerType.fromBuffer(body) as AuditEvent
  let writerType: avro.Type
  try {
    writerType = avro.Type.forSchema((await registry.getSchema(writerId)) as unknown as avro.Schema)
  } catch (error) {
    throw writerSchemaError(error, writerId)
  }
  let resolver: avro.Resolver
  try {
    resolver = readerType.createResolver(writerType)
  } catch (error) {
    throw new CodecError(
      'EVENT_UNDECODABLE',
      `schema id ${writerId} cannot be read as the current schema (id ${readerId}): ${(error as Error).message}`,
      false,
      { cause: error },
    )
  }
  return (body) => readerType.fromBuffer(body, resolver) as AuditEvent
}

/** avsc says only that a value is invalid; its error hook tells us which fields. */
/**
 * Avro readers build a map as a plain object (avsc: `value[key] = …`), and assigning to
 * `__proto__` sets the prototype: the attribute would vanish from every copy read back, the
 * trail's included. Refused when written, so that it is never silently lost.
 */
const protoAttribute = {
  field: 'attributes.__proto__',
  message:
    'an attribute may not be named __proto__: Avro readers drop it (it names the prototype); rename it',
}

function invalidPaths(type: avro.Type, event: unknown, error: unknown) {
  const problems: { field: string; message: string }[] = []
  type.isValid(event, {
    errorHook: (path, value, fieldType) => {
      problems.push({
        field: path.join('.') || '(event)',
        message: `${JSON.stringify(value) ?? 'undefined'} is not a valid ${describeType(fieldType)}`,
      })
    },
  })
  return problems.length > 0 ? problems : [{ field: '(event)', message: (error as Error).message }]
}

function describeType(type: avro.Type): string {
  const schema = type.schema() as unknown
  return typeof schema === 'string' ? schema : JSON.stringify(schema).slice(0, 80)
}

/**
 * Reading a message, only the registry's own "not found" is final. Everything else is retried:
 * the registry client (mappersmith) reports a refused connection as status 400, so a 4xx does not
 * prove the registry looked and said no, and dead-lettering during an outage would be wrong.
 */
function writerSchemaError(error: unknown, writerId: number): CodecError {
  if ((error as { status?: number }).status === 404) {
    return new CodecError(
      'SCHEMA_UNKNOWN',
      `the schema registry has no schema with id ${writerId} (written with another registry, or deleted)`,
      false,
      { cause: error },
    )
  }
  return new CodecError(
    'REGISTRY_UNAVAILABLE',
    `schema registry error fetching writer schema id ${writerId}: ${(error as Error).message}`,
    true,
    { cause: error },
  )
}

function registryError(error: unknown, what: string): CodecError {
  const status = (error as { status?: number }).status
  if (status === 409) {
    return new CodecError(
      'SCHEMA_REJECTED',
      `the registry refused the ${what} as incompatible: ${(error as Error).message}`,
      false,
      {
        cause: error,
      },
    )
  }
  // Only answers that retrying cannot change are final: bad credentials, a malformed schema.
  // mappersmith reports a refused connection as status 400, so 400 is retried.
  const retriable = status === undefined || ![401, 403, 404, 422].includes(status)
  return new CodecError(
    'REGISTRY_UNAVAILABLE',
    `schema registry error for the ${what}: ${(error as Error).message}`,
    retriable,
    {
      cause: error,
    },
  )
}
