import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import kafkajs, { Kafka, logLevel, type Admin } from 'kafkajs'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { loadConnectionSettings } from '@audit-pipeline/config'
import { erasedValue, type AuditEvent } from '@audit-pipeline/event-model'
import {
  openEvents,
  openLocalKeyStore,
  parseSealedValue,
  readKeyEncryptionKeyFile,
  subjectDigest,
  writeKeyEncryptionKeyFile,
} from '@audit-pipeline/field-encryption'
import { createAuditProducer } from '@audit-pipeline/producer'
import { collectTopics, uniqueName, waitFor } from '@audit-pipeline/testing'
import type { Endpoints } from '../endpoints.js'
import { eraseCommand } from './erase.js'
import type { EraseOptions } from './eraseOptions.js'

// kafkajs is CommonJS and spreads its enums into its exports, which Node's named imports miss.
const { ConfigResourceTypes } = kafkajs
const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'cli-erase-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl })
const endpoints: Endpoints = {
  settings: loadConnectionSettings({}),
  brokers: stack.kafkaBrokers,
  registryUrl: stack.schemaRegistryUrl,
  origin: 'environment',
}

async function connectedAdmin(): Promise<Admin> {
  const admin = kafka.admin()
  await admin.connect()
  onTestFinished(() => admin.disconnect())
  return admin
}

/** A key store in a folder of its own, as `npm start` makes one: a KEK file and a keys folder. */
async function newKeyStore() {
  const folder = mkdtempSync(join(tmpdir(), 'erase-'))
  const kekFile = join(folder, 'kek')
  await writeKeyEncryptionKeyFile(kekFile)
  const keys = openLocalKeyStore({
    directory: folder,
    keyEncryptionKey: await readKeyEncryptionKeyFile(kekFile),
  })
  return { folder, kekFile, keys }
}

/** erase's options for tenant acme, by actor `dpo`, with a key store's folder and KEK file. */
function eraseOptions(
  store: { folder: string; kekFile: string },
  options: Pick<EraseOptions, 'subject' | 'eventsTopic' | 'inputTopics' | 'normalizerGroup'>,
): EraseOptions {
  return {
    tenant: 'acme',
    actorId: 'dpo',
    fieldKeys: {
      directory: { path: store.folder, setting: 'FIELD_KEYS_DIR' },
      kekFile: { path: store.kekFile, setting: 'FIELD_KEYS_KEK_FILE' },
    },
    json: false,
    ...options,
  }
}

function capture() {
  const lines: string[] = []
  return { lines, write: (line: string) => void lines.push(line) }
}

/** The normalizer's view: a group whose committed offset on `partition` is `offset`. */
async function commitAs(admin: Admin, groupId: string, topic: string, partition: number, offset: string) {
  await admin.setOffsets({ groupId, topic, partitions: [{ partition, offset }] })
}

/** The folders holding partition 0 of `topic` on the brokers (the local stack's: on this machine). */
async function partitionFolders(admin: Admin, topic: string): Promise<string[]> {
  const { brokers } = await admin.describeCluster()
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: brokers.map((broker) => ({
      type: ConfigResourceTypes.BROKER,
      name: String(broker.nodeId),
      configNames: ['log.dirs'],
    })),
  })
  const folders = resources
    .flatMap((resource) => resource.configEntries[0]?.configValue.split(',') ?? [])
    .map((dir) => join(dir, `${topic}-0`))
    .filter((dir) => existsSync(dir))
  if (folders.length === 0) {
    throw new Error(
      `no broker log folder of ${topic} on this machine: this test reads the local stack's files`,
    )
  }
  return folders
}

/** Every file of a partition folder, as latin1 text (a record's bytes, found by a search). */
function filesOf(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    try {
      return [readFileSync(join(dir, name)).toString('latin1')]
    } catch {
      // Deleted between the listing and the read: what the test waits for.
      return []
    }
  })
}

describe('audit-pipeline erase', () => {
  it("destroys the subject's keys, records the erasure, and removes the input the normalizer handled", async () => {
    const admin = await connectedAdmin()
    // One topic, as in the pipeline: producers' input (audit.events), where the erasure is recorded too.
    const topic = uniqueName('cli_erase')
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })
    const group = uniqueName('normalizer')
    const tenant = 'acme'
    const subject = uniqueName('alice')
    const { folder, kekFile, keys } = await newKeyStore()

    // A value sealed at the source for the subject.
    const audit = await createAuditProducer({
      kafka,
      registry,
      topic,
      defaults: { tenant, source: { service: 'crm' } },
      encryption: { keys },
    })
    onTestFinished(() => audit.close())
    const sealed = await audit.updated(
      { type: 'customer', id: 'c-9' },
      { email: 'alice@old.example' },
      { email: 'alice@example.com' },
      { actor: { id: subject }, sensitiveFields: ['email'] },
    )
    const sealedEmail = JSON.parse(sealed!.changes[0]!.new_value!) as string
    const keyId = parseSealedValue(sealedEmail)!.keyId
    expect(await keys.keyById(keyId)).toMatchObject({ state: 'active' })

    // Plaintext from a producer that cannot seal, on both partitions.
    const raw = kafka.producer()
    await raw.connect()
    onTestFinished(() => raw.disconnect())
    const plaintext = (partition: number, n: number) => ({
      partition,
      value: JSON.stringify({ actor: subject, email: `alice-${partition}-${n}@example.com` }),
    })
    await raw.send({ topic, messages: [plaintext(0, 1), plaintext(0, 2), plaintext(1, 1)] })
    // The normalizer has handled partition 0 up to here, and has not committed on partition 1.
    const [handled0] = (await admin.fetchTopicOffsets(topic)).filter((p) => p.partition === 0)
    await commitAs(admin, group, topic, 0, handled0!.high)
    await raw.send({ topic, messages: [{ partition: 0, value: 'not handled yet' }] })
    const before = await admin.fetchTopicOffsets(topic)

    const out = capture()
    const err = capture()
    const options: EraseOptions = {
      tenant,
      subject,
      reason: 'GDPR request 17',
      actorId: 'dpo@acme.example',
      fieldKeys: {
        directory: { path: folder, setting: '--keys-dir' },
        kekFile: { path: kekFile, setting: '--kek-file' },
      },
      eventsTopic: topic,
      inputTopics: [topic],
      normalizerGroup: group,
      json: false,
    }
    const exitCode = await eraseCommand(options, endpoints, { out: out.write, err: err.write })
    expect(err.lines).toEqual([])
    expect(exitCode).toBe(0)

    // The key is destroyed: the sealed value reads [erased].
    expect(await keys.keyById(keyId)).toMatchObject({ state: 'erased', tenant })
    const [opened] = await openEvents([sealed!], keys)
    expect(opened!.changes[0]!.new_value).toBe(JSON.stringify(erasedValue))

    // Partition 0 starts at the committed offset; partition 1, never committed, is untouched.
    const after = await admin.fetchTopicOffsets(topic)
    const low = (offsets: typeof after, partition: number) =>
      offsets.find((p) => p.partition === partition)!.low
    expect(low(after, 0)).toBe(handled0!.high)
    expect(low(after, 1)).toBe(low(before, 1))

    // What is left on the topic: the unhandled records, and the erasure event naming the digest.
    const digest = subjectDigest(tenant, subject)
    const collector = await collectTopics(kafka, [topic])
    onTestFinished(() => collector.stop())
    const recorded = out.lines.find((line) => line.startsWith('  erasure recorded: event '))
    const eventId = /event ([0-9a-f-]{36})/.exec(recorded ?? '')?.[1]
    expect(eventId).toBeDefined()
    await waitFor(
      () => collector.messages.some((m) => m.headers?.['audit-event-id']?.toString() === eventId),
      { timeoutMs: 30_000, description: 'the erasure event' },
    )
    const values = collector.messages.map((m) => m.value?.toString('latin1') ?? '')
    expect(values.filter((v) => v.includes('alice-0-'))).toEqual([])
    expect(values.filter((v) => v.includes('alice-1-'))).toHaveLength(1)
    expect(values).toContain('not handled yet')
    const codec = await createAuditEventCodec({ registry })
    const message = collector.messages.find((m) => m.headers?.['audit-event-id']?.toString() === eventId)!
    const erasure: AuditEvent = await codec.decode(message.value!)
    expect(erasure).toMatchObject({
      tenant,
      category: 'security',
      action: { kind: 'operation', name: 'subject.erase' },
      object: { type: 'data_subject', id: digest },
      actor: { id: 'dpo@acme.example' },
      attributes: { reason: 'GDPR request 17', erased_key_ids: keyId },
      changes: [],
      before: null,
      after: null,
    })
    expect(JSON.stringify(erasure)).not.toContain(subject)

    // The summary names the subject by its digest only, and each partition.
    expect(out.lines.join('\n')).not.toContain(subject)
    expect(out.lines).toEqual([
      `Data subject ${digest} of tenant acme:`,
      expect.stringMatching(new RegExp(`^ {2}keys destroyed: {3}1 \\(${keyId}\\) at `)),
      `  erasure recorded: event ${eventId} (subject.erase) on ${topic}`,
      `  input records the normalizer (group ${group}) has handled:`,
      `    ${topic}[0]: removed ${Number(handled0!.high) - Number(low(before, 0))} record(s), offsets ${low(before, 0)} to ${Number(handled0!.high) - 1}`,
      `    ${topic}[1]: left as is: ${group} has no committed offset here`,
      `  ${Number(handled0!.high) - Number(low(before, 0))} input record(s) removed from ${topic}`,
      // The topic's settings (the broker's defaults) and the local stack's retention check.
      `    ${topic}: the removed records' bytes leave the brokers' disks with their segment: it rolls at the first record appended segment.ms (7 d) after it began (else retention.ms, 1 d, removes it), then is deleted within log.retention.check.interval.ms (10 s) + file.delete.delay.ms (1 min)`,
    ])

    // Again: idempotent. No key left to destroy, nothing more to remove; recorded all the same.
    const again = capture()
    expect(
      await eraseCommand({ ...options, json: true }, endpoints, { out: again.write, err: err.write }),
    ).toBe(0)
    expect(JSON.parse(again.lines[0]!)).toMatchObject({
      tenant,
      subjectDigest: digest,
      keysDestroyed: [],
      erasureEvent: { topic },
      inputRecords: [
        { topic, partition: 0, status: 'nothing-to-remove', committedOffset: handled0!.high },
        { topic, partition: 1, status: 'no-committed-offset' },
      ],
      recordsRemoved: 0,
      failures: [],
    })
  })

  it("takes the removed input's bytes off the broker's disk once its segment rolls", async () => {
    const admin = await connectedAdmin()
    // An input topic whose segments roll after a second and are deleted without delay.
    const topic = uniqueName('cli_erase_disk')
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [
            { name: 'segment.ms', value: '1000' },
            { name: 'file.delete.delay.ms', value: '0' },
          ],
        },
      ],
      waitForLeaders: true,
    })
    const partitionDirs = await partitionFolders(admin, topic)
    const marker = `alice-${uniqueName('plaintext')}@example.com`
    const onDisk = () => partitionDirs.some((dir) => filesOf(dir).some((file) => file.includes(marker)))

    const raw = kafka.producer()
    await raw.connect()
    onTestFinished(() => raw.disconnect())
    const sentAt = Date.now()
    await raw.send({ topic, messages: [{ value: JSON.stringify({ actor: 'alice', email: marker }) }] })
    await waitFor(onDisk, { timeoutMs: 10_000, description: 'the plaintext in the segment file' })
    const group = uniqueName('normalizer')
    const [handled] = await admin.fetchTopicOffsets(topic)
    await commitAs(admin, group, topic, 0, handled!.high)

    const { folder, kekFile } = await newKeyStore()
    // The erasure is recorded on a topic of its own: this one gets only what the test sends.
    const eventsTopic = uniqueName('cli_erase_events')
    await admin.createTopics({ topics: [{ topic: eventsTopic, numPartitions: 1 }], waitForLeaders: true })
    const out = capture()
    const err = capture()
    const exitCode = await eraseCommand(
      eraseOptions(
        { folder, kekFile },
        { subject: 'alice', eventsTopic, inputTopics: [topic], normalizerGroup: group },
      ),
      endpoints,
      { out: out.write, err: err.write },
    )
    expect(err.lines).toEqual([])
    expect(exitCode).toBe(0)
    expect(out.lines).toContain(
      `    ${topic}: the removed records' bytes leave the brokers' disks with their segment: it rolls at the first record appended segment.ms (1 s) after it began (else retention.ms, 1 d, removes it), then is deleted within log.retention.check.interval.ms (10 s) + file.delete.delay.ms (0 ms)`,
    )
    // Removed for readers at once; on disk until the segment holding it is no longer the active one.
    expect((await admin.fetchTopicOffsets(topic))[0]!.low).toBe(handled!.high)
    expect(onDisk()).toBe(true)

    // The next record, a second after the first: the segment rolls, and the retention check deletes it.
    await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, sentAt + 1_100 - Date.now())))
    await raw.send({ topic, messages: [{ value: 'a later record' }] })
    await waitFor(() => !onDisk(), {
      timeoutMs: 60_000,
      description: "the erased plaintext gone from the broker's files",
    })
    expect(partitionDirs.some((dir) => filesOf(dir).some((file) => file.includes('a later record')))).toBe(
      true,
    )
  })

  it('destroys nothing when an input topic does not exist, and says so', async () => {
    const admin = await connectedAdmin()
    const topic = uniqueName('cli_erase')
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
    const { folder, kekFile, keys } = await newKeyStore()
    const key = await keys.dataKeyFor('acme', 'bob')
    const out = capture()
    const err = capture()
    const exitCode = await eraseCommand(
      eraseOptions(
        { folder, kekFile },
        {
          subject: 'bob',
          eventsTopic: topic,
          inputTopics: [topic, 'no_such_input_topic'],
          normalizerGroup: uniqueName('normalizer'),
        },
      ),
      endpoints,
      { out: out.write, err: err.write },
    )
    expect(exitCode).toBe(1)
    expect(err.lines).toEqual([
      expect.stringMatching(
        /^audit-pipeline erase: nothing was erased: input topic no_such_input_topic does not exist at .*: name the normalizer's input topics with --input-topic$/,
      ),
    ])
    expect(await keys.keyById(key.id)).toMatchObject({ state: 'active' })
    expect(out.lines.slice(1)).toEqual(['  keys destroyed:   none (not erased)', '  erasure recorded: no'])
  })
})
