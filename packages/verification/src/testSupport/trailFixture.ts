import { randomBytes } from 'node:crypto'
import {
  chainEntryRow,
  checkpointRow,
  defaultRetentionPolicy,
  eventRow,
  runMigrations,
  type RetentionPolicy,
} from '@audit-pipeline/clickhouse-schema'
import type { AuditEvent } from '@audit-pipeline/event-model'
import {
  appendToChain,
  buildCheckpoint,
  contentDigest,
  generateSigningKeyPem,
  genesisHead,
  parseSigningKey,
  publicKeysDocument,
  type PublicKeySet,
  type SignedCheckpoint,
  type SigningKey,
  type StoredEntry,
} from '@audit-pipeline/integrity'
import type { Storage } from '@audit-pipeline/storage'

/**
 * An intact trail written straight into ClickHouse with the packages the sink writes it with
 * (integrity for the chain and checkpoints, clickhouse-schema for the rows), so a test can then
 * break it with SQL and see verify name what it did. Side-effect free until called.
 */

export type ChainSpec = {
  tenant: string
  chain: string
  /** Events chained. */
  length: number
  /** A checkpoint over every this many entries; a shorter tail is left uncovered. */
  checkpointEvery: number
  /** The first event's occurred_at and its entry's stored_at, ms; each next one `stepMs` later. */
  startMs: number
  stepMs?: number
  /** Every event's category (default: varied, all kept for years). */
  category?: string
}

export type FixtureChain = {
  tenant: string
  chain: string
  events: AuditEvent[]
  entries: StoredEntry[]
  /** When each entry was stored, by seq. */
  storedAtMs: number[]
  checkpoints: SignedCheckpoint[]
}

export type TrailFixture = {
  database: string
  key: SigningKey
  keys: PublicKeySet
  /** The published public keys document, as JSON text. */
  publicKeysJson: string
  chains: FixtureChain[]
  /** The chain of (tenant, chain). */
  chain(tenant: string, chain: string): FixtureChain
  /** The stored time of the newest entry of any chain. */
  lastStoredAtMs: number
}

/** Makes the tables and writes each chain: its events, its entries, its checkpoints. */
export async function writeTrail(
  storage: Storage,
  database: string,
  specs: readonly ChainSpec[],
  options: { retention?: RetentionPolicy; key?: SigningKey } = {},
): Promise<TrailFixture> {
  await runMigrations(storage, { database, retention: options.retention ?? defaultRetentionPolicy })
  const key = options.key ?? parseSigningKey(generateSigningKeyPem(), 'test key')
  const chains = specs.map((spec) => buildChain(spec, key))
  for (const chain of chains) await insertChain(storage, database, chain)
  const publicKeysJson = JSON.stringify(publicKeysDocument([key.publicKey]))
  return {
    database,
    key,
    keys: new Map([[key.keyId, key.publicKey]]),
    publicKeysJson,
    chains,
    chain(tenant, name) {
      const found = chains.find((chain) => chain.tenant === tenant && chain.chain === name)
      if (found === undefined) throw new Error(`no chain ${tenant} ${name} in the fixture`)
      return found
    },
    lastStoredAtMs: Math.max(...chains.flatMap((chain) => chain.storedAtMs)),
  }
}

export function buildChain(spec: ChainSpec, key: SigningKey): FixtureChain {
  const step = spec.stepMs ?? 1000
  const prefix = randomBytes(4).toString('hex')
  let head = genesisHead(spec.tenant, spec.chain)
  const chain: FixtureChain = {
    tenant: spec.tenant,
    chain: spec.chain,
    events: [],
    entries: [],
    storedAtMs: [],
    checkpoints: [],
  }
  let uncovered: { seq: number; hash: string }[] = []
  for (let seq = 0; seq < spec.length; seq++) {
    const event = fixtureEvent(
      spec.tenant,
      `${prefix}-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`,
      {
        occurredAtMs: spec.startMs + seq * step,
        index: seq,
        ...(spec.category !== undefined && { category: spec.category }),
      },
    )
    const appended = appendToChain(head, {
      event_id: event.event_id,
      content_digest: contentDigest(event),
      occurred_at: event.occurred_at,
      category: event.category,
    })
    head = appended.head
    const storedAtMs = spec.startMs + seq * step + 100
    chain.events.push(event)
    chain.entries.push({ ...appended.entry, entry_hash: appended.hash })
    chain.storedAtMs.push(storedAtMs)
    uncovered.push({ seq, hash: appended.hash })
    if (uncovered.length === spec.checkpointEvery) {
      chain.checkpoints.push(
        buildCheckpoint({
          tenant: spec.tenant,
          chain: spec.chain,
          previous: chain.checkpoints.at(-1) ?? null,
          entries: uncovered,
          createdAtMs: storedAtMs + 50,
          key,
        }),
      )
      uncovered = []
    }
  }
  return chain
}

async function insertChain(storage: Storage, database: string, chain: FixtureChain): Promise<void> {
  const [topic, partition] = chain.chain.split('/')
  await storage.client.insert({
    table: `${database}.audit_events`,
    values: chain.events.map((event, seq) =>
      eventRow(event, {
        topic: topic ?? chain.chain,
        partition: Number(partition ?? 0),
        offset: String(seq),
      }),
    ),
    format: 'JSONEachRow',
  })
  await storage.client.insert({
    table: `${database}.audit_chain`,
    values: chain.entries.map((entry, seq) =>
      chainEntryRow(entry, entry.entry_hash, chain.storedAtMs[seq] as number),
    ),
    format: 'JSONEachRow',
  })
  if (chain.checkpoints.length > 0) {
    await storage.client.insert({
      table: `${database}.audit_checkpoints`,
      values: chain.checkpoints.map(checkpointRow),
      format: 'JSONEachRow',
    })
  }
}

const categories = ['business', 'security', 'platform', 'business']

/**
 * An event with what a Native reader could get wrong: non-ASCII and astral text, quotes and
 * control characters, nulls and empty arrays, several changes, a `__proto__` attribute, and every
 * fifth event acting on behalf of someone.
 */
export function fixtureEvent(
  tenant: string,
  eventId: string,
  options: { occurredAtMs: number; index: number; category?: string },
): AuditEvent {
  const { index } = options
  return {
    event_id: eventId,
    occurred_at: options.occurredAtMs,
    recorded_at: options.occurredAtMs + 250,
    tenant,
    source: { service: 'billing', instance: index % 3 === 0 ? null : 'billing-7d9f', version: '4.2.0' },
    actor: {
      type: 'user',
      id: `u-${index % 17}`,
      display_name: index % 4 === 0 ? null : 'Zoë Müller 🙂 "quoted"\ttab',
      roles: index % 2 === 0 ? [] : ['admin', 'billing'],
      ip: '203.0.113.7',
      user_agent: null,
      session_id: `s-${index % 5}`,
    },
    on_behalf_of:
      index % 5 === 0
        ? {
            type: 'service',
            id: 'support-bot',
            display_name: null,
            roles: ['impersonation'],
            ip: null,
            user_agent: 'bot/1.0',
            session_id: null,
          }
        : null,
    action: { kind: 'update', name: 'invoice.update' },
    category: options.category ?? (categories[index % categories.length] as string),
    object: {
      type: 'invoice',
      id: `inv-${1000 + (index % 7)}`,
      id2: null,
      id3: index % 2 === 0 ? 'x' : null,
      label: 'Rechnung №',
    },
    changes: [
      { path: 'amount', old_value: '100', new_value: String(120 + index), value_type: 'number' },
      { path: 'note', old_value: null, new_value: '"line1\\nline2 ✓"', value_type: 'string' },
    ],
    before: index % 3 === 0 ? '{"amount":100}' : null,
    after: null,
    outcome: { status: 'success', reason: null },
    severity: 'info',
    correlation: { trace_id: null, request_id: `req-${index}` },
    attributes:
      index % 6 === 0
        ? { region: 'eu-west-1', ['__proto__']: 'kept', ключ: 'значение' }
        : { region: 'eu-west-1' },
    sensitive_fields: index % 4 === 1 ? ['actor.ip'] : [],
  }
}
