import { checkpointRow } from '@audit-pipeline/clickhouse-schema'
import {
  buildCheckpoint,
  contentDigest,
  entryHash,
  generateSigningKeyPem,
  parseSigningKey,
  type Finding,
  type SignedCheckpoint,
} from '@audit-pipeline/integrity'
import type { Storage } from '@audit-pipeline/storage'
import type { ChainSpec, TrailFixture } from './trailFixture.js'

/**
 * Each way of breaking the trail the tests check verify names: done straight in ClickHouse with
 * SQL (mutations, INSERT … SELECT), as someone with write access to the database would, never
 * through the pipeline's code.
 */

/** How an entry may wait for its checkpoint in these tests. */
export const testGraceMs = 120_000

/** Two tenants, three chains; every chain's entries covered but the last few, stored within the grace. */
export function fixtureSpecs(nowMs: number): ChainSpec[] {
  const startMs = nowMs - 10 * 60_000
  return [
    { tenant: 'acme', chain: 'audit.normalized/0', length: 47, checkpointEvery: 10, startMs },
    { tenant: 'acme', chain: 'audit.normalized/1', length: 30, checkpointEvery: 10, startMs: startMs + 10 },
    {
      tenant: 'globex',
      chain: 'audit.normalized/0',
      length: 23,
      checkpointEvery: 5,
      startMs: startMs + 20,
      stepMs: 2000,
    },
  ]
}

/** A finding as a test expects it: what it names. */
export type ExpectedFinding = Pick<Finding, 'kind' | 'tenant'> &
  Partial<Pick<Finding, 'chain' | 'seq' | 'event_id' | 'checkpoint_seq'>>

export type Tampering = {
  name: string
  /** Done to a fixture of fixtureSpecs; says what verify is to find, and how to run it. */
  apply(
    storage: Storage,
    database: string,
    fixture: TrailFixture,
  ): Promise<{
    finding: ExpectedFinding
    /** The checkpoints topic's copy, when the tampering is only visible against it. */
    externalCheckpoints?: SignedCheckpoint[]
    /** When to verify (default: a second after the newest entry was stored). */
    nowMs?: number
  }>
}

export const mutation = (storage: Storage, query: string) =>
  storage.client.command({ query, clickhouse_settings: { mutations_sync: '2' } })

const at = (ms: number) => `fromUnixTimestamp64Milli(${ms}, 'UTC')`

export const tamperings: Tampering[] = [
  {
    name: 'a value changed in an event row',
    async apply(storage, database, fixture) {
      const event = fixture.chain('acme', 'audit.normalized/1').events[12]!
      await mutation(
        storage,
        `ALTER TABLE ${database}.audit_events UPDATE actor_id = 'u-mallory' WHERE event_id = '${event.event_id}'`,
      )
      return {
        finding: {
          kind: 'event-modified',
          tenant: 'acme',
          chain: 'audit.normalized/1',
          seq: 12,
          event_id: event.event_id,
        },
      }
    },
  },
  {
    name: 'an event row deleted',
    async apply(storage, database, fixture) {
      const event = fixture.chain('globex', 'audit.normalized/0').events[3]!
      await mutation(
        storage,
        `ALTER TABLE ${database}.audit_events DELETE WHERE event_id = '${event.event_id}'`,
      )
      return {
        finding: {
          kind: 'event-deleted',
          tenant: 'globex',
          chain: 'audit.normalized/0',
          seq: 3,
          event_id: event.event_id,
        },
      }
    },
  },
  {
    name: 'a forged event row inserted, recorded by no entry',
    async apply(storage, database, fixture) {
      const event = fixture.chain('acme', 'audit.normalized/0').events[5]!
      const forgedId = '00000000-0000-4000-8000-00000000f0f0'
      await mutation(
        storage,
        `INSERT INTO ${database}.audit_events SELECT * REPLACE (toUUID('${forgedId}') AS event_id) FROM (SELECT * FROM ${database}.audit_events WHERE event_id = '${event.event_id}')`,
      )
      return { finding: { kind: 'event-inserted', tenant: 'acme', event_id: forgedId } }
    },
  },
  {
    name: 'a forged entry and its event inserted in the middle of a chain',
    async apply(storage, database, fixture) {
      const chain = fixture.chain('acme', 'audit.normalized/0')
      const original = chain.events[5]!
      const forgedId = '00000000-0000-4000-8000-00000000beef'
      await mutation(
        storage,
        `INSERT INTO ${database}.audit_events SELECT * REPLACE (toUUID('${forgedId}') AS event_id, 'u-mallory' AS actor_id) FROM (SELECT * FROM ${database}.audit_events WHERE event_id = '${original.event_id}')`,
      )
      const forged = { ...original, event_id: forgedId, actor: { ...original.actor, id: 'u-mallory' } }
      const entry = {
        ...chain.entries[6]!,
        event_id: forgedId,
        content_digest: contentDigest(forged),
        prev_hash: chain.entries[5]!.entry_hash,
      }
      await mutation(
        storage,
        `INSERT INTO ${database}.audit_chain VALUES ('acme', '${chain.chain}', 6, '${forgedId}', '${entry.content_digest}', '${entry.prev_hash}', '${entryHash(entry)}', ${at(entry.occurred_at)}, '${entry.category}', ${at(chain.storedAtMs[6]!)})`,
      )
      return {
        finding: {
          kind: 'entry-forked',
          tenant: 'acme',
          chain: 'audit.normalized/0',
          seq: 6,
          event_id: forgedId,
        },
      }
    },
  },
  {
    // Its event is untouched and still matches the entry's digest: only the entry's hash can tell.
    name: "an entry's recorded category changed",
    async apply(storage, database, fixture) {
      const event = fixture.chain('acme', 'audit.normalized/0').events[8]!
      await mutation(
        storage,
        `ALTER TABLE ${database}.audit_chain UPDATE category = 'forged' WHERE event_id = '${event.event_id}'`,
      )
      return {
        finding: {
          kind: 'entry-modified',
          tenant: 'acme',
          chain: 'audit.normalized/0',
          seq: 8,
          event_id: event.event_id,
        },
      }
    },
  },
  {
    name: "two entries' seqs swapped",
    async apply(storage, database, fixture) {
      const chain = fixture.chain('globex', 'audit.normalized/0')
      const [third, fourth] = [chain.events[3]!, chain.events[4]!]
      const where = `tenant = 'globex' AND chain = '${chain.chain}'`
      await mutation(
        storage,
        `INSERT INTO ${database}.audit_chain SELECT * REPLACE (if(seq = 3, 4, 3) AS seq) FROM (SELECT * FROM ${database}.audit_chain WHERE ${where} AND seq IN (3, 4))`,
      )
      await mutation(
        storage,
        `ALTER TABLE ${database}.audit_chain DELETE WHERE ${where} AND ((seq = 3 AND event_id = '${third.event_id}') OR (seq = 4 AND event_id = '${fourth.event_id}'))`,
      )
      return {
        finding: {
          kind: 'event-reordered',
          tenant: 'globex',
          chain: 'audit.normalized/0',
          seq: 3,
          event_id: third.event_id,
        },
      }
    },
  },
  {
    name: 'the newest checkpoint deleted, its entries now older than the grace',
    async apply(storage, database, fixture) {
      await mutation(
        storage,
        `ALTER TABLE ${database}.audit_checkpoints DELETE WHERE tenant = 'acme' AND chain = 'audit.normalized/1' AND checkpoint_seq = 2`,
      )
      return {
        finding: {
          kind: 'checkpoint-missing',
          tenant: 'acme',
          chain: 'audit.normalized/1',
          seq: 20,
          checkpoint_seq: 2,
        },
        // Just past the grace of the entries it covered, not yet of the other chains' uncovered tails.
        nowMs: fixture.chain('acme', 'audit.normalized/1').storedAtMs[29]! + testGraceMs + 1,
      }
    },
  },
  {
    name: 'a checkpoint replaced by one signed with another key',
    async apply(storage, database, fixture) {
      const chain = fixture.chain('acme', 'audit.normalized/0')
      const forged = buildCheckpoint({
        tenant: 'acme',
        chain: chain.chain,
        previous: chain.checkpoints[0]!,
        entries: chain.entries.slice(10, 20).map((entry) => ({ seq: entry.seq, hash: entry.entry_hash })),
        createdAtMs: chain.checkpoints[1]!.created_at,
        key: parseSigningKey(generateSigningKeyPem(), 'another key'),
      })
      await mutation(
        storage,
        `ALTER TABLE ${database}.audit_checkpoints DELETE WHERE tenant = 'acme' AND chain = '${chain.chain}' AND checkpoint_seq = 1`,
      )
      const row = checkpointRow(forged)
      await mutation(
        storage,
        `INSERT INTO ${database}.audit_checkpoints FORMAT JSONEachRow ${JSON.stringify(row)}`,
      )
      return {
        finding: {
          kind: 'checkpoint-unknown-key',
          tenant: 'acme',
          chain: 'audit.normalized/0',
          checkpoint_seq: 1,
        },
      }
    },
  },
  {
    name: 'storage rolled back: a checkpoint of the checkpoints topic is not stored',
    async apply(storage, database, fixture) {
      const published = fixture.chains.flatMap((chain) => chain.checkpoints)
      await mutation(
        storage,
        `ALTER TABLE ${database}.audit_checkpoints DELETE WHERE tenant = 'globex' AND chain = 'audit.normalized/0' AND checkpoint_seq = 3`,
      )
      return {
        finding: {
          kind: 'checkpoint-rolled-back',
          tenant: 'globex',
          chain: 'audit.normalized/0',
          seq: 15,
          checkpoint_seq: 3,
        },
        externalCheckpoints: published,
      }
    },
  },
]

/** What a finding names, for comparing with an ExpectedFinding. */
export function named(finding: Finding): ExpectedFinding {
  return {
    kind: finding.kind,
    tenant: finding.tenant,
    ...(finding.chain !== '' && { chain: finding.chain }),
    ...(finding.seq !== undefined && { seq: finding.seq }),
    ...(finding.event_id !== undefined && { event_id: finding.event_id }),
    ...(finding.checkpoint_seq !== undefined && { checkpoint_seq: finding.checkpoint_seq }),
  }
}
