import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { createAuditEventCodec, type AuditEventCodec } from '@audit-pipeline/codec'
import { defaultEventPolicy, sealedValuePattern, type AuditEvent } from '@audit-pipeline/event-model'
import { openLocalKeyStore, type KeyStore } from '@audit-pipeline/field-encryption'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { auditJsonAdapter } from '../adapters/auditJsonAdapter.js'
import { encodedEventDigest } from '../digests/encodedEventDigest.js'
import { planRecord, routeHeader, temporalLevelHeader, type PlannedOutput } from '../pipeline/planRecord.js'
import { readRecord, type RecordReader } from '../pipeline/readRecord.js'
import { KeyStoreUnavailableError } from '../redaction/keyStoreOutage.js'
import { defaultRedactionPolicy, parseRedactionPolicy } from '../redaction/redactionPolicy.js'
import { parseRoutes } from '../routing/parseRoutes.js'
import {
  parseLevelsPolicy,
  type InformativeLevel,
  type LoggingLevels,
  type TemporalLevel,
} from './levelsPolicy.js'

/**
 * The proof: the same story at each level combination goes out as the table says and
 * nothing more. Each message goes the way the service takes it (readRecord: adapter, normalize,
 * levels, redaction; planRecord: route, encode with the real Avro schema, headers), and what
 * leaves is read back from the Avro bytes.
 */

const [, , loweredLine = ''] = ticketExampleLines()
const solution = "Use the print dialog's Save as PDF until the fix ships."

/** The Kafka timestamp of the message: `recorded_at`, since the JSON line has none. */
const receivedAtMs = Date.parse('2024-03-16T14:00:00.500Z')
const midnight16March = Date.parse('2024-03-16T00:00:00Z')

const routes = parseRoutes('default:\n  to: [audit.normalized]\n', { file: 'routes.yaml' })

/** A registry that has the current schema under id 7: the codec writes and reads it without a network. */
const registry = { register: () => Promise.resolve({ id: 7 }) } as unknown as SchemaRegistry
let codec: AuditEventCodec
beforeAll(async () => {
  codec = await createAuditEventCodec({ registry })
})

const levelsFile = ({ temporal, informative }: LoggingLevels) =>
  parseLevelsPolicy(
    `rules:\n  - { tenant: witify, object_type: ticket, temporal: ${temporal}, informative: ${informative} }\n`,
    'levels.yaml',
  )

function readerWith(overrides: Partial<RecordReader>): RecordReader {
  return {
    decodeAvro: (value) => codec.decode(value),
    adapters: [auditJsonAdapter],
    policy: defaultEventPolicy,
    redaction: defaultRedactionPolicy,
    maxEventBytes: 1_000_000,
    ...overrides,
  }
}

/** The message's outputs as the flush would send them. */
async function outputsOf(line: string, reader: RecordReader): Promise<PlannedOutput[]> {
  const reading = await readRecord(
    { value: Buffer.from(line), headers: {}, timestampMs: receivedAtMs },
    reader,
  )
  const plan = planRecord(reading, {
    routes,
    encode: (event) => codec.encode(event),
    digest: encodedEventDigest(),
    maxEventBytes: 1_000_000,
    digestSent: () => undefined,
    ...(reader.levels !== undefined && { levels: reader.levels }),
  })
  if (plan.kind !== 'outputs') throw new Error(`expected outputs, got ${JSON.stringify(plan)}`)
  return plan.outputs
}

const descending = [3, 2, 1] as const
const combinations: LoggingLevels[] = descending.flatMap((temporal) =>
  descending.map((informative) => ({ temporal, informative })),
)

const whatOf: Record<InformativeLevel, Pick<AuditEvent, 'changes' | 'before' | 'after'>> = {
  3: {
    changes: [
      { path: 'priority', old_value: '"Urgent"', new_value: '"Normal"', value_type: 'string' },
      { path: 'solution', old_value: null, new_value: JSON.stringify(solution), value_type: 'string' },
    ],
    before: '{"title":"Export to PDF fails","priority":"Urgent","status":"open"}',
    after: JSON.stringify({ title: 'Export to PDF fails', priority: 'Normal', status: 'open', solution }),
  },
  2: {
    changes: [
      { path: 'priority', old_value: null, new_value: null, value_type: 'string' },
      { path: 'solution', old_value: null, new_value: null, value_type: 'string' },
    ],
    before: null,
    after: null,
  },
  1: { changes: [], before: null, after: null },
}

const whenOf: Record<TemporalLevel, Pick<AuditEvent, 'occurred_at' | 'recorded_at'>> = {
  3: { occurred_at: Date.parse('2024-03-16T13:12:00Z'), recorded_at: receivedAtMs },
  2: { occurred_at: midnight16March, recorded_at: midnight16March },
  1: { occurred_at: Date.parse('2024-03-16T13:12:00Z'), recorded_at: receivedAtMs },
}

describe('the ticket story at every level combination, as it leaves the normalizer', () => {
  it.each(combinations)('temporal $temporal, informative $informative', async (levels) => {
    const [full] = await outputsOf(loweredLine, readerWith({}))
    const [output, ...more] = await outputsOf(loweredLine, readerWith({ levels: levelsFile(levels) }))
    expect(more).toEqual([])
    if (!full || !output) throw new Error('expected one output each')
    const sent = await codec.decode(output.value)
    const asIs = await codec.decode(full.value)

    // Exactly what the table says, everything else as at 3/3.
    expect(sent).toEqual({ ...asIs, ...whatOf[levels.informative], ...whenOf[levels.temporal] })
    expect(asIs).toMatchObject({ ...whatOf[3], ...whenOf[3] })
    // The header marks temporal 1, and only it; the key stays the record's.
    expect(output.headers[temporalLevelHeader]?.toString()).toBe(levels.temporal === 1 ? '1' : undefined)
    expect(Object.keys(output.headers).sort()).toEqual(
      levels.temporal === 1 ? [temporalLevelHeader, routeHeader].sort() : [routeHeader],
    )
    expect(output.key.toString()).toBe('witify/ticket/9548-B1')

    // And nothing more, in the bytes that leave.
    const bytes = output.value.toString('latin1')
    const present = (text: string) => bytes.includes(text)
    expect([present('Urgent'), present('Normal'), present('Save as PDF')]).toEqual(
      Array<boolean>(3).fill(levels.informative === 3),
    )
    expect([present('priority'), present('solution')]).toEqual(
      Array<boolean>(2).fill(levels.informative >= 2),
    )
    expect([present('title'), present('status')]).toEqual(Array<boolean>(2).fill(levels.informative === 3))
    expect(present('Stefany Ilds')).toBe(true)
  })

  it('at 3/3, or without a levels file, goes out byte for byte as it did before levels existed', async () => {
    const [without] = await outputsOf(loweredLine, readerWith({}))
    const [full] = await outputsOf(
      loweredLine,
      readerWith({ levels: levelsFile({ temporal: 3, informative: 3 }) }),
    )
    expect(full?.value).toEqual(without?.value)
    expect(full?.headers).toEqual(without?.headers)
  })

  it('gives the same bytes when the message is read again, at every combination', async () => {
    for (const levels of combinations) {
      const reader = readerWith({ levels: levelsFile(levels) })
      const [first] = await outputsOf(loweredLine, reader)
      const [again] = await outputsOf(loweredLine, reader)
      expect(again?.value).toEqual(first?.value)
    }
  })
})

describe('logging levels before redaction', () => {
  const encrypting = parseRedactionPolicy(
    'tenants:\n  witify: { method: encrypt, sensitive_fields: [solution, customer.emails] }\n',
    'redaction.yaml',
    { fieldKeys: true },
  )

  /** A key store every call of which fails, counting the calls. */
  function failingKeyStore() {
    const fail = vi.fn(() =>
      Promise.reject(new Error('EACCES: permission denied, mkdir /var/lib/audit/keys')),
    )
    const keys: KeyStore = { dataKeyFor: fail, keyById: fail, indexKeyFor: fail, erase: fail }
    return { keys, calls: fail }
  }

  it('seals nothing below informative 3: nothing is left to seal, and the key store is not asked', async () => {
    const { keys, calls } = failingKeyStore()
    for (const informative of [2, 1] as const) {
      const reader = readerWith({
        levels: levelsFile({ temporal: 3, informative }),
        redaction: encrypting,
        fieldKeys: keys,
      })
      const [output] = await outputsOf(loweredLine, reader)
      const event = await codec.decode(output?.value ?? Buffer.alloc(0))
      expect(JSON.stringify(event)).not.toMatch(/enc:v1|Save as PDF/)
      // 2 lists the tenant's sensitive paths, as redaction does at 3; 1 lists none.
      expect(event.sensitive_fields).toEqual(informative === 2 ? ['solution', 'customer.emails'] : [])
    }
    expect(calls).not.toHaveBeenCalled()
    // At 3 the same message needs the store: held as an outage, never sent unsealed.
    const full = readerWith({ redaction: encrypting, fieldKeys: keys })
    await expect(outputsOf(loweredLine, full)).rejects.toBeInstanceOf(KeyStoreUnavailableError)
  })

  it('at informative 2, still names no key under a sensitive path, and creates no data key', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'normalizer-levels-keys-'))
    onTestFinished(() => rmSync(directory, { recursive: true, force: true }))
    const keys = openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32) })
    const line = JSON.stringify({
      ...(JSON.parse(loweredLine) as Record<string, unknown>),
      changes: [
        { path: 'customer.emails["bob@example.com"]', new_value: { verified: true } },
        { path: 'priority', old_value: 'Urgent', new_value: 'Normal' },
      ],
    })
    const reader = readerWith({
      levels: levelsFile({ temporal: 3, informative: 2 }),
      redaction: encrypting,
      fieldKeys: keys,
    })
    const [output] = await outputsOf(line, reader)
    const event = await codec.decode(output?.value ?? Buffer.alloc(0))
    expect(event.changes).toEqual([
      { path: 'customer.emails', old_value: null, new_value: null, value_type: 'object' },
      { path: 'priority', old_value: null, new_value: null, value_type: 'string' },
    ])
    expect(output?.value.toString('latin1')).not.toMatch(/bob@|Urgent|Normal/)
    // Nothing written to the store: no data key for the actor, no blind-index key for the tenant.
    expect(readdirSync(directory, { recursive: true })).toEqual([])
    // At 3 the same values are sealed.
    const [sealed] = await outputsOf(line, readerWith({ redaction: encrypting, fieldKeys: keys }))
    const opened = await codec.decode(sealed?.value ?? Buffer.alloc(0))
    expect(JSON.parse(opened.changes[0]?.new_value ?? 'null')).toMatch(sealedValuePattern)
  })
})
