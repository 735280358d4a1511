import { hostname } from 'node:os'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { logLevel, type Admin } from 'kafkajs'
import { subjectDigest, type KeyStore } from '@audit-pipeline/field-encryption'
import { createKafka } from '@audit-pipeline/kafka'
import { createAuditProducer, type AuditProducer } from '@audit-pipeline/producer'
import type { Endpoints } from '../endpoints.js'
import type { EraseOptions } from './eraseOptions.js'
import { eraseJson, eraseSummary, type EraseReport } from './eraseOutput.js'
import { openFieldKeys } from './fieldKeys.js'
import { removeHandledInput } from './handledInput.js'
import { inputResidency } from './inputResidency.js'

export type EraseIo = { out: (line: string) => void; err: (line: string) => void }

/** The action the erasure is recorded under, and the object type naming the subject (by digest). */
export const erasureAction = 'subject.erase'
export const erasedSubjectType = 'data_subject'

/**
 * `audit-pipeline erase`: destroys a data subject's keys, records the erasure as a security event
 * of the tenant, and removes from the input topics the records the normalizer has handled.
 * Throws (exit 2) for settings that do not work (the key folder or key-encryption key file, named
 * by the setting they came from) before anything is done. Returns 0 when every step was done, 1
 * otherwise, the report saying what was and was not done. Kafka, the registry and the topics are
 * checked before the keys are destroyed, so an unreachable broker leaves nothing half done.
 */
export async function eraseCommand(
  options: EraseOptions,
  endpoints: Endpoints,
  io: EraseIo,
): Promise<number> {
  const keys = await openFieldKeys(options.fieldKeys)
  const report: EraseReport = {
    tenant: options.tenant,
    subjectDigest: subjectDigest(options.tenant, options.subject),
    erasedAt: null,
    keysDestroyed: null,
    erasureEvent: null,
    inputRecords: [],
    inputResidency: [],
    failures: [],
  }
  // kafkajs logs retries it recovers from as errors; what fails reaches us as an exception.
  const kafka = createKafka(
    { ...endpoints.settings.kafka, brokers: endpoints.brokers },
    { logLevel: logLevel.NOTHING },
  )
  const admin = kafka.admin()
  let audit: AuditProducer | undefined
  try {
    try {
      audit = await createAuditProducer({
        kafka,
        registry: new SchemaRegistry({ host: endpoints.registryUrl }),
        endpoints: { brokers: endpoints.brokers, registryUrl: endpoints.registryUrl },
        topic: options.eventsTopic,
        defaults: {
          tenant: options.tenant,
          source: { service: 'audit-pipeline-cli', instance: hostname() },
          category: 'security',
          snapshots: false,
        },
      })
      await admin.connect()
      await assertTopicsExist(admin, options.inputTopics, endpoints.brokers)
    } catch (error) {
      report.failures.push(`nothing was erased: ${messageOf(error)}`)
      return finish(report, options, io)
    }
    await erase(report, options, keys, audit, admin)
    return finish(report, options, io)
  } finally {
    // The outcome is already printed: a connection that does not close cleanly changes none of it.
    await audit
      ?.close()
      .catch((error: unknown) => io.err(`audit-pipeline erase: closing the producer: ${messageOf(error)}`))
    await admin
      .disconnect()
      .catch((error: unknown) =>
        io.err(`audit-pipeline erase: closing the admin client: ${messageOf(error)}`),
      )
  }
}

/** The three steps, in order; each failure is written into the report with what it left undone. */
async function erase(
  report: EraseReport,
  options: EraseOptions,
  keys: KeyStore,
  audit: AuditProducer,
  admin: Admin,
): Promise<void> {
  let erasedAt: Date
  try {
    const erasure = await keys.erase(options.tenant, options.subject)
    erasedAt = erasure.erasedAt
    report.erasedAt = erasedAt.toISOString()
    report.keysDestroyed = [...erasure.keyIds]
  } catch (error) {
    report.failures.push(
      `the key store did not erase the subject's keys, so nothing was erased: ${messageOf(error)}`,
    )
    return
  }

  try {
    const event = await audit.operation(
      erasureAction,
      // The digest, never the subject: the record of an erasure must not identify whom it erased.
      { type: erasedSubjectType, id: report.subjectDigest },
      {},
      {
        actor: { id: options.actorId },
        occurredAt: erasedAt,
        severity: 'notice',
        attributes: {
          erased_key_ids: report.keysDestroyed.join(','),
          ...(options.reason !== undefined && { reason: options.reason }),
        },
      },
    )
    report.erasureEvent = { eventId: event.event_id, topic: audit.topic }
  } catch (error) {
    report.failures.push(
      `the keys are destroyed, but the erasure was not recorded on ${audit.topic}: ${messageOf(error)}; running erase again records it (with no key ids: they are already destroyed)`,
    )
  }

  // Even without the record: what producers sent in plaintext must go all the same.
  for (const topic of options.inputTopics) {
    try {
      const outcomes = await removeHandledInput(admin, topic, options.normalizerGroup)
      report.inputRecords.push(...outcomes)
      for (const outcome of outcomes) {
        if (outcome.status === 'failed') {
          report.failures.push(
            `${topic}[${outcome.partition}]: handled records not removed: ${outcome.error}`,
          )
        }
      }
    } catch (error) {
      report.failures.push(`${topic}: handled records not removed: ${messageOf(error)}`)
    }
  }
  const removedFrom = [
    ...new Set(report.inputRecords.filter((o) => o.status === 'removed').map((o) => o.topic)),
  ]
  try {
    report.inputResidency = await inputResidency(admin, removedFrom)
  } catch (error) {
    // The records are removed all the same; only the statement of when their bytes go is missing.
    report.failures.push(
      `${removedFrom.join(', ')}: records removed, but the topic settings that bound how long their bytes stay on disk could not be read: ${messageOf(error)}`,
    )
  }
}

function finish(report: EraseReport, options: EraseOptions, io: EraseIo): number {
  if (options.json) io.out(eraseJson(report))
  else for (const line of eraseSummary(report, options.normalizerGroup)) io.out(line)
  for (const failure of report.failures) io.err(`audit-pipeline erase: ${failure}`)
  return report.failures.length > 0 ? 1 : 0
}

/** Each input topic exists: a misspelt one would otherwise only show after the keys are destroyed. */
async function assertTopicsExist(admin: Admin, topics: readonly string[], brokers: string[]): Promise<void> {
  const existing = new Set(await admin.listTopics())
  const missing = topics.filter((topic) => !existing.has(topic))
  if (missing.length > 0) {
    throw new Error(
      `input topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist at ${brokers.join(',')}: name the normalizer's input topics with --input-topic`,
    )
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
