import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { loadConnectionSettings } from '@audit-pipeline/config'
import { buildDeadLetter, sealDeadLetter, withSeal } from '@audit-pipeline/dead-letter'
import {
  openLocalKeyStore,
  readKeyEncryptionKeyFile,
  writeKeyEncryptionKeyFile,
} from '@audit-pipeline/field-encryption'
import { uniqueName, waitFor } from '@audit-pipeline/testing'
import { dlqListCommand, dlqReplayCommand } from './dlq.js'
import type { KafkaEndpoint } from './dlqEndpoints.js'
import { parseDlqListFlags, parseDlqReplayFlags } from './dlqOptions.js'

const stack = inject('stack')
const kafka = new Kafka({ clientId: 'cli-dlq-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })
const endpoint: KafkaEndpoint = { settings: loadConnectionSettings({}), brokers: stack.kafkaBrokers }

async function newTopic(prefix: string): Promise<string> {
  const topic = uniqueName(prefix)
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
    await waitFor(
      async () =>
        (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions[0]?.leader !== undefined,
      { timeoutMs: 30_000, description: `metadata of ${topic}` },
    )
  } finally {
    await admin.disconnect()
  }
  return topic
}

async function writeDeadLetters(dlq: string, sourceTopic: string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    await producer.send({
      topic: dlq,
      acks: -1,
      messages: [
        buildDeadLetter({
          source: {
            topic: sourceTopic,
            partition: 2,
            offset: '17',
            timestamp: '1767225600000',
            key: null,
            value: Buffer.from('not json'),
          },
          error: {
            errorClass: 'EVENT_UNDECODABLE',
            reason: 'NOT_JSON',
            message: 'Unexpected token o in JSON at position 1',
          },
          service: 'normalizer',
          now: new Date('2026-03-01T10:00:00Z'),
        }),
        buildDeadLetter({
          source: {
            topic: sourceTopic,
            partition: 0,
            offset: '18',
            timestamp: '1767225600001',
            key: null,
            value: Buffer.from([0, 255]),
          },
          error: { errorClass: 'EVENT_TOO_LARGE', message: 'x'.repeat(500) },
          service: 'clickhouse-sink',
          now: new Date('2026-03-01T11:00:00Z'),
        }),
      ],
    })
  } finally {
    await producer.disconnect()
  }
}

function capture() {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    io: { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l), widthChars: 180 },
  }
}

describe('audit-pipeline dlq', () => {
  it('lists dead letters as a table that fits, or as NDJSON, and replays them', async () => {
    const [dlq, source] = await Promise.all([newTopic('cli_dlq'), newTopic('cli_dlq_source')])
    await writeDeadLetters(dlq, source)

    const table = capture()
    expect(await dlqListCommand(parseDlqListFlags({ topic: dlq, limit: '100' }), endpoint, table.io)).toBe(0)
    expect(table.out).toHaveLength(4)
    expect(table.out[0]).toMatch(
      /^DLQ {2}FAILED AT {17}SERVICE {10}CLASS\/REASON {16}SOURCE +BYTES {2}MESSAGE$/,
    )
    expect(table.out[1]).toMatch(
      new RegExp(
        `^0/0 {2}2026-03-01T10:00:00\\.000Z {2}normalizer {7}EVENT_UNDECODABLE/NOT_JSON {2}${source}/2/17 {2}8 {6}Unexpected token o in JSON at position 1$`,
      ),
    )
    expect(table.out[2]).toMatch(
      /^0\/1 {2}2026-03-01T11:00:00\.000Z {2}clickhouse-sink {2}EVENT_TOO_LARGE .* 2 {6}x+…$/,
    )
    expect(table.out.slice(0, 3).every((line) => line.length <= 180)).toBe(true)
    expect(table.out[3]).toBe(`2 dead letter(s) in ${dlq}`)

    const json = capture()
    await dlqListCommand(
      parseDlqListFlags({ topic: dlq, limit: '1', class: 'EVENT_TOO_LARGE', json: true }),
      endpoint,
      json.io,
    )
    expect(json.out.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({
        dlq: { topic: dlq, partition: 0, offset: '1' },
        errorClass: 'EVENT_TOO_LARGE',
        reason: null,
        message: 'x'.repeat(500),
        valueBase64: Buffer.from([0, 255]).toString('base64'),
      }),
    ])
    expect(json.err).toEqual([`1 dead letter(s) matching in ${dlq}`])

    const replay = capture()
    expect(
      await dlqReplayCommand(parseDlqReplayFlags({ topic: dlq, dryRun: true }), endpoint, replay.io),
    ).toBe(0)
    expect(replay.out).toEqual([`dry run: would re-send 2 dead letter(s) from ${dlq}:`, `  2 to ${source}`])
  })

  it('opens sealed dead letters with the key store it is given, and refuses to replay those erased', async () => {
    const [dlq, source, target] = await Promise.all([
      newTopic('cli_dlq'),
      newTopic('cli_dlq_source'),
      newTopic('cli_dlq_to'),
    ])
    const dir = mkdtempSync(join(tmpdir(), 'cli-dlq-keys-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const keyFlags = { keysDir: join(dir, 'keys'), kekFile: join(dir, 'kek') }
    await writeKeyEncryptionKeyFile(keyFlags.kekFile)
    const keys = openLocalKeyStore({
      directory: keyFlags.keysDir,
      keyEncryptionKey: await readKeyEncryptionKeyFile(keyFlags.kekFile),
      cacheMs: 0,
    })
    const value = Buffer.from('{"tenant":"witify","actor":{"id":"u-1002"},"occurred_at":"yesterday"}')
    const errorMessage = "invalid audit event: occurred_at: 'yesterday' is not an ISO-8601 time"
    const from = { topic: source, partition: 0, offset: '5' }
    const letter = withSeal(
      buildDeadLetter({
        source: { ...from, timestamp: '1767225600000', key: Buffer.from('k-1'), value },
        error: { errorClass: 'EVENT_INVALID', message: errorMessage },
        service: 'normalizer',
        now: new Date('2026-03-01T10:00:00Z'),
      }),
      await sealDeadLetter(
        { owners: [{ tenant: 'witify', subject: 'u-1002' }], source: from, value, errorMessage },
        keys,
      ),
    )
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    await producer.send({ topic: dlq, acks: -1, messages: [letter] })
    await producer.disconnect()

    const listed = capture()
    await dlqListCommand(parseDlqListFlags({ topic: dlq, limit: '10', ...keyFlags }), endpoint, listed.io)
    expect(listed.out[1]).toMatch(
      new RegExp(`EVENT_INVALID +${source}/0/5 +${value.length} +opened +invalid audit event: occurred_at`),
    )
    expect(listed.out.slice(2)).toEqual([
      `1 dead letter(s) in ${dlq}`,
      '1 sealed for their data subject (1 opened)',
    ])

    const sealedOnly = capture()
    await dlqListCommand(parseDlqListFlags({ topic: dlq, limit: '10' }), endpoint, sealedOnly.io)
    expect(sealedOnly.out[1]).toMatch(/ sealed +sealed with the value \(audit-pipeline dlq list/)
    await expect(
      dlqReplayCommand(parseDlqReplayFlags({ topic: dlq, to: target, dryRun: true }), endpoint, capture().io),
    ).rejects.toThrow(
      /is sealed \(key k.+\): replaying it needs the key store it was sealed with: set FIELD_KEYS_DIR/,
    )

    const dryRun = capture()
    await dlqReplayCommand(
      parseDlqReplayFlags({ topic: dlq, to: target, dryRun: true, ...keyFlags }),
      endpoint,
      dryRun.io,
    )
    expect(dryRun.out).toEqual([`dry run: would re-send 1 dead letter(s) from ${dlq}:`, `  1 to ${target}`])

    await keys.erase('witify', 'u-1002')
    const erased = capture()
    await dlqListCommand(parseDlqListFlags({ topic: dlq, limit: '10', ...keyFlags }), endpoint, erased.io)
    expect(erased.out[1]).toMatch(/ \[erased\] +sealed with the value /)
    const refused = capture()
    expect(
      await dlqReplayCommand(
        parseDlqReplayFlags({ topic: dlq, to: target, ...keyFlags }),
        endpoint,
        refused.io,
      ),
    ).toBe(0)
    expect(refused.out.slice(0, 3)).toEqual([
      `re-sent 0 dead letter(s) from ${dlq}`,
      'refused 1 sealed dead letter(s) (1 erased): never sent, not even as ciphertext',
      expect.stringMatching(
        new RegExp(`^  dead letter ${dlq}/0/0: not replayed, its key k.+ was erased at `),
      ) as string,
    ])
  })
})
