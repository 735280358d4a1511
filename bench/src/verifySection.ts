import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  chainEntryRow,
  checkpointRow,
  defaultRetentionPolicy,
  eventRow,
  runMigrations,
  storedEventSelect,
} from '@audit-pipeline/clickhouse-schema'
import type { AuditEvent } from '@audit-pipeline/event-model'
import {
  appendToChain,
  buildCheckpoint,
  contentDigest,
  generateSigningKeyPem,
  genesisHead,
  parsePublicKeys,
  parseSigningKey,
  publicKeysDocument,
  type SignedCheckpoint,
} from '@audit-pipeline/integrity'
import { openStorage, type Storage } from '@audit-pipeline/storage'
import { verifyTrail } from '@audit-pipeline/verification'
import { measured, type Measured } from './measured.js'
import { formatTable } from './table.js'

/** What `audit-pipeline verify` must reach on this machine (issue 16). */
export const verifyTarget = { eventsPerSecond: 200_000 } as const

const chains = ['audit.normalized/0', 'audit.normalized/1', 'audit.normalized/2', 'audit.normalized/3']
const checkpointEvery = 10_000
const insertRows = 20_000

/**
 * `verify` over a trail of `events` events in embedded ClickHouse (one tenant, four chains, a
 * signed checkpoint every 10,000 entries), written straight into the tables with the packages the
 * sink writes them with. Its baseline, in the same run: reading the same event and chain rows
 * from ClickHouse and parsing them, without checking anything.
 */
export async function verifySection(options: { events: number }): Promise<void> {
  const dataPath = mkdtempSync(join(tmpdir(), 'audit-bench-verify-'))
  const database = 'bench_verify'
  const storage = await openStorage({ kind: 'embedded', dataPath, database })
  try {
    await storage.ensureDatabase(database)
    await runMigrations(storage, { database, retention: defaultRetentionPolicy })
    const key = parseSigningKey(generateSigningKeyPem(), 'the bench key')
    const keys = parsePublicKeys(JSON.stringify(publicKeysDocument([key.publicKey])), 'the bench keys')
    console.log(
      `\nverify, ${options.events.toLocaleString('en-US')} events in ${chains.length} chains of one tenant, ` +
        `embedded ClickHouse in a temporary folder (${availableParallelism()} CPUs, load average ` +
        `${loadavg()[0]?.toFixed(1)} before the runs); writing the trail…`,
    )
    await writeTrail(storage, options.events, key)

    const scan = await measured(async () => {
      await readAll(storage, `SELECT ${storedEventSelect} FROM audit_events`)
      await readAll(storage, 'SELECT * FROM audit_chain ORDER BY tenant, chain, seq')
    })
    let intact = false
    const verified = await measured(async () => {
      const report = await verifyTrail({
        storage,
        database,
        keys,
        retention: defaultRetentionPolicy,
        nowMs: Date.now(),
        checkpointGraceMs: 3_600_000,
      })
      intact = report.intact
    })
    if (!intact) throw new Error('the bench trail did not verify: the section measures nothing')
    printTable(options.events, scan, verified)
  } finally {
    await storage.close()
    rmSync(dataPath, { recursive: true, force: true })
  }
}

function printTable(events: number, scan: Measured, verified: Measured): void {
  const rate = (run: Measured) => events / run.seconds
  const row = (name: string, run: Measured) => [
    name,
    Math.round(rate(run)).toLocaleString('en-US'),
    run.seconds.toFixed(2),
    `${(rate(run) / rate(scan)).toFixed(2)}x`,
    ((run.cpuSeconds / events) * 1e6).toFixed(1),
    `${(run.machineBusy * 100).toFixed(0)}%`,
  ]
  console.log(
    formatTable(
      [
        'run',
        'events/s',
        'seconds',
        'vs reading the rows',
        'CPU µs/event (this process)',
        'machine CPUs busy',
      ],
      [
        row('read the event and chain rows, check nothing (baseline)', scan),
        row('audit-pipeline verify', verified),
      ],
    ),
  )
  const met = rate(verified) >= verifyTarget.eventsPerSecond
  console.log(
    `target: >= ${verifyTarget.eventsPerSecond.toLocaleString('en-US')} events/s: ` +
      `${Math.round(rate(verified)).toLocaleString('en-US')} ${met ? 'met' : 'MISSED'}`,
  )
}

/** Writes `events` events, their chain entries and signed checkpoints, in inserts of 20,000 rows. */
async function writeTrail(storage: Storage, events: number, key: ReturnType<typeof parseSigningKey>) {
  const storedAtMs = Date.now() - 3_600_000
  const heads = chains.map((chain) => genesisHead('acme', chain))
  const leaves: { seq: number; hash: string }[][] = chains.map(() => [])
  const previous: (SignedCheckpoint | null)[] = chains.map(() => null)
  let eventLines: string[] = []
  let entryLines: string[] = []
  const checkpointLines: string[] = []
  const flush = async () => {
    await insertLines(storage, 'audit_events', eventLines)
    await insertLines(storage, 'audit_chain', entryLines)
    eventLines = []
    entryLines = []
  }
  for (let n = 0; n < events; n++) {
    const index = n % chains.length
    const event = benchEvent(n, storedAtMs)
    const next = appendToChain(heads[index]!, {
      event_id: event.event_id,
      content_digest: contentDigest(event),
      occurred_at: event.occurred_at,
      category: event.category,
    })
    heads[index] = next.head
    leaves[index]!.push({ seq: next.entry.seq, hash: next.hash })
    eventLines.push(
      JSON.stringify(eventRow(event, { topic: 'audit.normalized', partition: index, offset: String(n) })),
    )
    entryLines.push(JSON.stringify(chainEntryRow(next.entry, next.hash, storedAtMs)))
    if (leaves[index]!.length === checkpointEvery || n >= events - chains.length) {
      if (leaves[index]!.length > 0) {
        const checkpoint = buildCheckpoint({
          tenant: 'acme',
          chain: chains[index]!,
          previous: previous[index]!,
          entries: leaves[index]!,
          createdAtMs: storedAtMs,
          key,
        })
        previous[index] = checkpoint
        leaves[index] = []
        checkpointLines.push(JSON.stringify(checkpointRow(checkpoint)))
      }
    }
    if (eventLines.length >= insertRows) await flush()
  }
  await flush()
  await insertLines(storage, 'audit_checkpoints', checkpointLines)
}

async function insertLines(storage: Storage, table: string, lines: string[]): Promise<void> {
  if (lines.length === 0) return
  await storage.client.command({ query: `INSERT INTO ${table} FORMAT JSONEachRow\n${lines.join('\n')}` })
}

async function readAll(storage: Storage, query: string): Promise<number> {
  const result = await storage.client.query({ query, format: 'JSONEachRow' })
  let rows = 0
  for await (const batch of result.stream()) rows += (batch as unknown[]).length
  return rows
}

/** Event `n`: a business update of one of 1,000 invoices, ~800 bytes like the sink bench's. */
function benchEvent(n: number, atMs: number): AuditEvent {
  return {
    event_id: `0190a4c2-7b1e-7c3d-8e4f-${n.toString(16).padStart(12, '0')}`,
    occurred_at: atMs - 1_000 + (n % 1_000),
    recorded_at: atMs,
    tenant: 'acme',
    source: { service: 'billing', instance: 'billing-7d9f', version: '4.2.0' },
    actor: {
      type: 'user',
      id: `u-${n % 97}`,
      display_name: 'Zoë Müller',
      roles: ['agent'],
      ip: '203.0.113.7',
      user_agent: 'Mozilla/5.0',
      session_id: `s-${n % 31}`,
    },
    on_behalf_of: null,
    action: { kind: 'update', name: 'invoice.update' },
    category: 'business',
    object: { type: 'invoice', id: `inv-${n % 1_000}`, id2: null, id3: null, label: null },
    changes: [
      { path: 'amount', old_value: String(n), new_value: String(n + 1), value_type: 'number' },
      { path: 'status', old_value: '"draft"', new_value: '"sent"', value_type: 'string' },
    ],
    before: null,
    after: null,
    outcome: { status: 'success', reason: null },
    severity: 'info',
    correlation: { trace_id: null, request_id: `req-${n}` },
    attributes: { channel: 'web', region: 'eu-west-1' },
    sensitive_fields: [],
  }
}
