import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import type { AuditEvent } from '@audit-pipeline/event-model'
import {
  checkpointHash,
  contentDigest,
  merkleRoot,
  parseSigningKey,
  verifyCheckpointSignature,
  type SignedCheckpoint,
} from '@audit-pipeline/integrity'
import { testSigningKeyFile, uniqueName, waitFor } from '@audit-pipeline/testing'
import { buildIntegrityServices, createIntegrityPipeline } from './support/integrityPipeline.js'
import { chainsOf, expectTrailIntact, readStoredTrail } from './support/storedTrail.js'
import { ticketEvent } from './support/ticketEvents.js'

const stack = inject('stack')

beforeAll(() => buildIntegrityServices(), 300_000)

describe('the hash chain and its signed checkpoints', () => {
  it(
    'chains every stored event once, in the order of its stream, and signs checkpoints over them that verify with the sink’s public key',
    { timeout: 150_000 },
    async () => {
      const pipeline = await createIntegrityPipeline(stack, { checkpointIntervalMs: 500 })
      await pipeline.start()
      const [tenant, otherTenant] = [uniqueName('tenant'), uniqueName('tenant')]
      // Two tenants, several tickets each: several chains per tenant (one per partition), and
      // chains of both tenants on one partition.
      const sent: AuditEvent[] = []
      for (let i = 0; i < 14; i++) {
        const owner = i % 3 === 2 ? otherTenant : tenant
        sent.push(
          await pipeline.producer.generic(
            ticketEvent(i % 2 === 0 ? 'created' : 'raised', { tenant: owner, ticket: `T-${i % 5}` }),
          ),
        )
      }
      const byId = new Map(sent.map((event) => [event.event_id, event]))

      // The chains to expect, from the stream the sink reads: per tenant and partition, in offset order.
      const normalized = await waitFor(
        async () => {
          const events = await pipeline.decoded(pipeline.seen.normalized)
          return events.length >= sent.length && events
        },
        { timeoutMs: 60_000, description: `${sent.length} normalized events` },
      )
      const streams = new Map<string, string[]>()
      for (const { message, event } of normalized) {
        const key = `${event.tenant} ${pipeline.topics.normalized}/${message.partition}`
        streams.set(key, [...(streams.get(key) ?? []), event.event_id])
      }
      expect(streams.size).toBeGreaterThan(2)

      // While the sink runs, each chain gets a checkpoint covering all its entries (by time: no
      // more events come), copied to the checkpoints topic.
      const published = await waitFor(
        () => {
          const checkpoints = pipeline.seen.checkpoints.messages.map(
            (message) => JSON.parse(message.value!.toString('utf8')) as SignedCheckpoint,
          )
          const covered = [...streams].every(([key, ids]) =>
            checkpoints.some(
              (checkpoint) =>
                `${checkpoint.tenant} ${checkpoint.chain}` === key && checkpoint.last_seq === ids.length - 1,
            ),
          )
          return covered && checkpoints
        },
        { timeoutMs: 30_000, description: 'a checkpoint on the topic covering each chain' },
      )
      await pipeline.waitForSinkToRead(pipeline.seen.normalized.messages)
      await pipeline.stop()

      const trail = readStoredTrail(pipeline, [tenant, otherTenant])
      // One entry per event, in its tenant's chain of the partition it was read from, in offset
      // order, recording the digest of the event as the producer sent it.
      expect(trail.events).toHaveLength(sent.length)
      expect(
        Object.fromEntries(
          chainsOf(trail).map((entries) => [
            `${entries[0]!.tenant} ${entries[0]!.chain}`,
            entries.map((e) => e.event_id),
          ]),
        ),
      ).toEqual(Object.fromEntries(streams))
      for (const entry of trail.entries) {
        expect(entry.content_digest, `entry of ${entry.event_id}`).toBe(
          contentDigest(byId.get(entry.event_id)!),
        )
      }
      for (const { event, digest } of trail.events) {
        expect(digest, `stored row of ${event.event_id}`).toBe(contentDigest(byId.get(event.event_id)!))
      }
      expectTrailIntact(trail)

      // The checkpoints: stored as published, signed by the sink's key, each over the Merkle root
      // of the entries it covers; together they cover every entry of every chain, without gaps.
      const key = parseSigningKey(readFileSync(testSigningKeyFile(), 'utf8'), testSigningKeyFile())
      const keys = new Map([[key.keyId, key.publicKey]])
      const stored = trail.checkpoints.map(({ checkpoint }) => checkpoint)
      const topicCopies = new Map(published.map((checkpoint) => [checkpoint.signature, checkpoint]))
      expect(stored.map((checkpoint) => topicCopies.get(checkpoint.signature))).toEqual(stored)
      expect(topicCopies.size).toBe(stored.length)
      for (const checkpoint of stored) {
        expect(checkpoint.key_id).toBe(key.keyId)
        expect(verifyCheckpointSignature(checkpoint, keys)).toBe('valid')
        // The signature covers what it claims: a changed root no longer verifies.
        expect(verifyCheckpointSignature({ ...checkpoint, merkle_root: '0'.repeat(64) }, keys)).toBe(
          'invalid',
        )
        const entries = trail.entries.filter(
          (entry) =>
            entry.tenant === checkpoint.tenant &&
            entry.chain === checkpoint.chain &&
            entry.seq >= checkpoint.first_seq &&
            entry.seq <= checkpoint.last_seq,
        )
        expect(entries).toHaveLength(checkpoint.last_seq - checkpoint.first_seq + 1)
        expect(checkpoint.merkle_root).toBe(
          merkleRoot(entries.map((entry) => Buffer.from(entry.entry_hash, 'hex'))).toString('hex'),
        )
        expect(checkpoint.last_entry_hash).toBe(entries.at(-1)!.entry_hash)
      }
      for (const [stream, ids] of streams) {
        const ranges = stored
          .filter((checkpoint) => `${checkpoint.tenant} ${checkpoint.chain}` === stream)
          .map((checkpoint) => [checkpoint.checkpoint_seq, checkpoint.first_seq, checkpoint.last_seq])
        expect(ranges[0], stream).toEqual([0, 0, expect.any(Number)])
        expect(ranges.at(-1)![2], stream).toBe(ids.length - 1)
        ranges.slice(1).forEach(([seq, first], index) => {
          expect([seq, first], stream).toEqual([index + 1, ranges[index]![2]! + 1])
        })
      }
    },
  )

  it(
    'goes on across a restart of the pipeline: new entries link to the stored head, and the next checkpoint to the last one stored, past ten',
    { timeout: 150_000 },
    async () => {
      // One checkpoint per entry: a chain with more checkpoints than one digit numbers.
      const pipeline = await createIntegrityPipeline(stack, {
        checkpointIntervalMs: 500,
        checkpointMaxEntries: 1,
      })
      await pipeline.start()
      const tenant = uniqueName('tenant')
      const send = async (count: number) => {
        for (let i = 0; i < count; i++) {
          await pipeline.producer.generic(
            ticketEvent(i % 2 === 0 ? 'created' : 'raised', { tenant, ticket: 'T-1' }),
          )
        }
      }
      // One ticket: one partition, so one chain.
      await send(12)
      await waitFor(() => pipeline.seen.normalized.messages.length >= 12, {
        timeoutMs: 60_000,
        description: '12 normalized events',
      })
      await pipeline.waitForSinkToRead(pipeline.seen.normalized.messages)
      await pipeline.stop()
      const before = readStoredTrail(pipeline, [tenant])
      expect(before.entries.map((entry) => entry.seq)).toEqual([...Array(12).keys()])
      expect(
        before.checkpoints.map(({ checkpoint }) => [
          checkpoint.checkpoint_seq,
          checkpoint.first_seq,
          checkpoint.last_seq,
        ]),
      ).toEqual([...Array(12).keys()].map((seq) => [seq, seq, seq]))

      await pipeline.start()
      await send(2)
      await waitFor(() => pipeline.seen.normalized.messages.length >= 14, {
        timeoutMs: 60_000,
        description: '14 normalized events',
      })
      await pipeline.waitForSinkToRead(pipeline.seen.normalized.messages)
      await pipeline.stop()

      const trail = readStoredTrail(pipeline, [tenant])
      expect(trail.entries.map((entry) => entry.seq)).toEqual([...Array(14).keys()])
      expect(trail.entries.slice(0, 12)).toEqual(before.entries)
      expect(trail.entries[12]!.prev_hash).toBe(before.entries[11]!.entry_hash)
      const checkpoints = trail.checkpoints.map(({ checkpoint }) => checkpoint)
      expect(checkpoints.slice(0, 12)).toEqual(before.checkpoints.map(({ checkpoint }) => checkpoint))
      expect(
        checkpoints
          .slice(12)
          .map((checkpoint) => [checkpoint.checkpoint_seq, checkpoint.first_seq, checkpoint.last_seq]),
        'the restarted sink checkpoints the new entries, numbering on from the last checkpoint',
      ).toEqual([
        [12, 12, 12],
        [13, 13, 13],
      ])
      expect(checkpoints[12]!.previous_checkpoint_hash).toBe(checkpointHash(checkpoints[11]!))
      expectTrailIntact(trail)
    },
  )
})
