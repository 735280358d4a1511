import { Kafka, logLevel } from 'kafkajs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { defaultRetentionPolicy, parseRetentionPolicy } from '@audit-pipeline/clickhouse-schema'
import { uniqueName } from '@audit-pipeline/testing'
import { buildPackage } from '../../../test/support/serviceProcess.js'
import { openTestStorage } from '../../../test/support/testStorage.js'
import { readCheckpointTopic } from './readCheckpointTopic.js'
import { fixtureSpecs, mutation, named, tamperings, testGraceMs } from './testSupport/tamperings.js'
import { writeTrail, type ChainSpec } from './testSupport/trailFixture.js'
import { allFindings, type TrailReport } from './trailReport.js'
import { verifyTrail, type VerifyTrailOptions } from './verifyTrail.js'

const hourMs = 3_600_000
// ClickHouse applies TTL by its own clock: the trail's times are real ones.
const nowMs = Date.now()

async function trail(chainSpecs: ChainSpec[] = fixtureSpecs(nowMs)) {
  const opened = await openTestStorage()
  onTestFinished(() => opened.close())
  const fixture = await writeTrail(opened.storage, opened.database, chainSpecs)
  // Small pages, so that page boundaries fall inside chains.
  const verify = (overrides: Partial<VerifyTrailOptions> = {}) =>
    verifyTrail({
      storage: opened.storage,
      database: opened.database,
      keys: fixture.keys,
      retention: defaultRetentionPolicy,
      nowMs: fixture.lastStoredAtMs + 1_000,
      checkpointGraceMs: testGraceMs,
      entriesPerPage: 8,
      ...overrides,
    })
  return { ...opened, fixture, verify }
}

const sql = mutation
const kinds = (report: TrailReport) => allFindings(report).map(named)

describe('verifyTrail', () => {
  it.each(tamperings)('names $name by its finding, and nothing else', async (tampering) => {
    const { verify, fixture, storage, database } = await trail()
    expect((await verify()).intact).toBe(true)
    const done = await tampering.apply(storage, database, fixture)
    const report = await verify({
      ...(done.nowMs !== undefined && { nowMs: done.nowMs }),
      ...(done.externalCheckpoints !== undefined && { externalCheckpoints: done.externalCheckpoints }),
    })
    expect(kinds(report)).toEqual([done.finding])
    expect(report.intact).toBe(false)
  })

  describe('with the chains checked on worker threads (--threads)', () => {
    // The workers run the compiled package, as the CLI ships it.
    const workerScript = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'verifyWorker.js'))
    beforeAll(() => buildPackage('@audit-pipeline/verification'), 300_000)

    it.each(tamperings)('names $name by its finding, and nothing else', async (tampering) => {
      const { verify, fixture, storage, database } = await trail()
      const intact = await verify({ threads: 2, workerScript })
      expect(intact.totals.threads).toBe(2)
      expect(intact.intact).toBe(true)
      const done = await tampering.apply(storage, database, fixture)
      const report = await verify({
        threads: 2,
        workerScript,
        ...(done.nowMs !== undefined && { nowMs: done.nowMs }),
        ...(done.externalCheckpoints !== undefined && { externalCheckpoints: done.externalCheckpoints }),
      })
      expect(kinds(report)).toEqual([done.finding])
    })
  })

  it('finds an intact trail intact: every chain, event and checkpoint of both tenants', async () => {
    const { verify, fixture } = await trail()
    const report = await verify()
    expect(allFindings(report)).toEqual([])
    expect(report.intact).toBe(true)
    expect(report.tenants).toEqual(['acme', 'globex'])
    expect(report.totals).toMatchObject({
      tenants: 2,
      chains: 3,
      entries: 100,
      events: 100,
      checkpoints: 4 + 3 + 4,
    })
    expect(
      report.chains.map((chain) => [chain.tenant, chain.chain, chain.start.reason, chain.lastSeq]),
    ).toEqual([
      ['acme', 'audit.normalized/0', 'chain-start', 46],
      ['acme', 'audit.normalized/1', 'chain-start', 29],
      ['globex', 'audit.normalized/0', 'chain-start', 22],
    ])
    const one = await verify({ tenant: 'globex' })
    expect(one.intact).toBe(true)
    expect(one.totals).toMatchObject({ chains: 1, entries: 23, events: 23 })
    expect(fixture.chains).toHaveLength(3)
  })

  it('counts events removed by retention as expired, not as findings', async () => {
    const old = nowMs - 30 * 24 * hourMs
    // Tables made with the default policy (debug kept 7 days: ClickHouse's TTL removes those
    // events itself); verified with platform shortened to 7 days since.
    const { verify, fixture, storage, database } = await trail([
      {
        tenant: 'acme',
        chain: 'audit.normalized/0',
        length: 20,
        checkpointEvery: 5,
        startMs: old,
        category: 'platform',
      },
      {
        tenant: 'acme',
        chain: 'audit.normalized/1',
        length: 20,
        checkpointEvery: 5,
        startMs: old,
        category: 'business',
      },
      {
        tenant: 'acme',
        chain: 'audit.normalized/2',
        length: 10,
        checkpointEvery: 5,
        startMs: old,
        category: 'debug',
      },
    ])
    const retention = parseRetentionPolicy({ SINK_RETENTION: 'platform=7d' })
    const ids = (chain: string, count: number) =>
      fixture
        .chain('acme', chain)
        .events.slice(0, count)
        .map((event) => `'${event.event_id}'`)
        .join(', ')
    await sql(
      storage,
      `ALTER TABLE ${database}.audit_events DELETE WHERE event_id IN (${ids('audit.normalized/0', 12)})`,
    )
    await sql(storage, `ALTER TABLE ${database}.audit_events DELETE WHERE category = 'debug'`)
    const report = await verify({ retention, nowMs })
    expect(allFindings(report)).toEqual([])
    expect(report.totals.expired).toBe(22)
    expect(report.chains.map((chain) => chain.expired)).toEqual([12, 0, 10])
    // The same deletion of business events, kept seven years, is deletion.
    await sql(
      storage,
      `ALTER TABLE ${database}.audit_events DELETE WHERE event_id IN (${ids('audit.normalized/1', 2)})`,
    )
    expect(
      kinds(await verify({ retention, nowMs })).map((finding) => [finding.kind, finding.chain, finding.seq]),
    ).toEqual([
      ['event-deleted', 'audit.normalized/1', 0],
      ['event-deleted', 'audit.normalized/1', 1],
    ])
  })

  it('names a changed copy of an event stored beside the intact one', async () => {
    const { verify, fixture, storage, database } = await trail()
    const event = fixture.chain('acme', 'audit.normalized/0').events[7]!
    await sql(
      storage,
      `INSERT INTO ${database}.audit_events SELECT * REPLACE ('u-mallory' AS actor_id) FROM (SELECT * FROM ${database}.audit_events WHERE event_id = '${event.event_id}')`,
    )
    expect(kinds(await verify())).toEqual([
      {
        kind: 'event-modified',
        tenant: 'acme',
        chain: 'audit.normalized/0',
        seq: 7,
        event_id: event.event_id,
      },
    ])
  })

  it('names a checkpoint of the checkpoints topic that storage lacks (rolled back)', async () => {
    const { verify, fixture, storage, database } = await trail()
    const chain = fixture.chain('acme', 'audit.normalized/1')
    const kafka = new Kafka({ brokers: inject('stack').kafkaBrokers, logLevel: logLevel.NOTHING })
    const topic = uniqueName('checkpoints')
    const admin = kafka.admin()
    await admin.connect()
    onTestFinished(() => admin.disconnect())
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      waitForLeaders: true,
    })
    onTestFinished(() => admin.deleteTopics({ topics: [topic] }))
    const producer = kafka.producer()
    await producer.connect()
    onTestFinished(() => producer.disconnect())
    await producer.send({
      topic,
      acks: -1,
      messages: fixture.chains.flatMap((c) =>
        c.checkpoints.map((checkpoint) => ({
          key: `${checkpoint.tenant}/${checkpoint.chain}/${checkpoint.checkpoint_seq}`,
          value: JSON.stringify(checkpoint),
        })),
      ),
    })
    const published = await readCheckpointTopic(kafka, topic)
    expect(published).toHaveLength(11)
    expect((await verify({ externalCheckpoints: published })).intact).toBe(true)

    await sql(
      storage,
      `ALTER TABLE ${database}.audit_checkpoints DELETE WHERE tenant = 'acme' AND chain = '${chain.chain}' AND checkpoint_seq = 2`,
    )
    const report = await verify({ externalCheckpoints: published })
    expect(report.checkpointsCompared).toBe(11)
    expect(kinds(report)).toEqual([
      {
        kind: 'checkpoint-rolled-back',
        tenant: 'acme',
        chain: 'audit.normalized/1',
        seq: 20,
        checkpoint_seq: 2,
      },
    ])
    await expect(readCheckpointTopic(kafka, `${topic}-missing`)).rejects.toThrow(
      `the checkpoints topic ${topic}-missing does not exist`,
    )
  })

  it('verifies a chain whose first entries and checkpoints retention removed from the first checkpoint left, and says so', async () => {
    const { verify, fixture, storage, database } = await trail([
      {
        tenant: 'acme',
        chain: 'audit.normalized/0',
        length: 40,
        checkpointEvery: 10,
        startMs: nowMs - 10 * 60_000,
      },
    ])
    const gone = fixture
      .chain('acme', 'audit.normalized/0')
      .events.slice(0, 20)
      .map((event) => `'${event.event_id}'`)
    await sql(storage, `ALTER TABLE ${database}.audit_chain DELETE WHERE seq < 20`)
    await sql(storage, `ALTER TABLE ${database}.audit_checkpoints DELETE WHERE checkpoint_seq < 2`)
    await sql(storage, `ALTER TABLE ${database}.audit_events DELETE WHERE event_id IN (${gone.join(', ')})`)
    const report = await verify()
    expect(allFindings(report)).toEqual([])
    expect(report.chains[0]).toMatchObject({
      start: { reason: 'retention', checkpointSeq: 2, seq: 20 },
      firstVerifiedSeq: 20,
      entries: 20,
    })
  })

  it('reports entries gone from inside a checkpoint too young for retention to have removed them', async () => {
    const { verify, storage, database } = await trail([
      {
        tenant: 'acme',
        chain: 'audit.normalized/0',
        length: 40,
        checkpointEvery: 10,
        startMs: nowMs - 10 * 60_000,
      },
    ])
    await sql(storage, `ALTER TABLE ${database}.audit_chain DELETE WHERE seq < 15`)
    await sql(storage, `ALTER TABLE ${database}.audit_checkpoints DELETE WHERE checkpoint_seq = 0`)
    const findings = kinds(await verify())
    expect(findings).toContainEqual({
      kind: 'entry-missing',
      tenant: 'acme',
      chain: 'audit.normalized/0',
      seq: 10,
    })
  })

  it('verifies from the first checkpoint made since --since, and up to the last entry stored before --until', async () => {
    const { verify, fixture } = await trail()
    const chain = fixture.chain('acme', 'audit.normalized/0')
    const since = new Date(chain.checkpoints[2]!.created_at)
    const report = await verify({ since })
    expect(report.intact).toBe(true)
    const started = report.chains.find((c) => c.tenant === 'acme' && c.chain === chain.chain)
    expect(started).toMatchObject({ start: { reason: 'since', checkpointSeq: 2, seq: 20 }, lastSeq: 46 })
    expect(report.range.since).toBe(since.toISOString())

    const until = new Date(chain.storedAtMs[25]! + 1)
    const bounded = await verify({ until })
    expect(bounded.intact).toBe(true)
    expect(bounded.chains.find((c) => c.tenant === 'acme' && c.chain === chain.chain)).toMatchObject({
      start: { reason: 'chain-start', seq: 0 },
      lastSeq: 25,
    })
  })
})
