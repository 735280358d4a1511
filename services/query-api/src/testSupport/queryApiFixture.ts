import { inject, onTestFinished } from 'vitest'
import { Registry } from 'prom-client'
import type { FastifyInstance } from 'fastify'
import { secretSha256, type ApiKey, type Role } from '@audit-pipeline/api-keys'
import {
  auditTables,
  defaultRetentionPolicy,
  eventRow,
  runMigrations,
} from '@audit-pipeline/clickhouse-schema'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import type { KeyStore } from '@audit-pipeline/field-encryption'
import { createEventBuilder } from '@audit-pipeline/producer'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { createLogger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import { queryApiUserStorage } from '../../../../test/support/serverAccess.js'
import { openTestStorage } from '../../../../test/support/testStorage.js'
import { fixedAnalystVisibility, type AnalystVisibility } from '../access/analystVisibility.js'
import { recordingAccessAudit, type AccessAudit, type AccessRecord } from '../accessAudit.js'
import { createQueryApi, type QueryApiLimits } from '../app.js'
import { createQueryApiMetrics } from '../metrics.js'

/** The keys of the tests: `<id>.<secret>` tokens, and what each may see. */
export const testKeys = {
  auditor: { id: 'auditor', secret: 'auditor-secret', role: 'auditor', tenants: 'all' },
  analyst: { id: 'analyst', secret: 'analyst-secret', role: 'analyst', tenants: 'all' },
  acmeAuditor: { id: 'acme-auditor', secret: 'acme-auditor-secret', role: 'auditor', tenants: ['acme'] },
  acmeAnalyst: { id: 'acme-analyst', secret: 'acme-analyst-secret', role: 'analyst', tenants: ['acme'] },
} as const satisfies Record<string, { id: string; secret: string; role: Role; tenants: 'all' | string[] }>

export type TestKeyName = keyof typeof testKeys

export const bearer = (name: TestKeyName) => ({
  authorization: `Bearer ${testKeys[name].id}.${testKeys[name].secret}`,
})

/** The test keys by id, as createQueryApi looks them up. */
export const apiKeys: ReadonlyMap<string, ApiKey> = new Map(
  Object.values(testKeys).map((key) => [
    key.id,
    {
      id: key.id,
      secretSha256: secretSha256(key.secret),
      role: key.role,
      tenants: key.tenants === 'all' ? 'all' : [...key.tenants],
    },
  ]),
)

const build = createEventBuilder(
  { source: { service: 'crm' }, category: 'business', snapshots: true },
  { now: () => Date.parse('2024-03-20T00:00:00Z'), newEventId: () => '00000000-0000-4000-8000-000000000000' },
)

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

/** A customer's e-mail changed: `email` is sensitive, stored unredacted (what an auditor sees). */
export const emailChange: AuditEvent = build.updated(
  { type: 'customer', id: 'c-1', label: 'Rita Ora' },
  { name: 'Rita', email: 'rita@old.example', tier: 'gold' },
  { name: 'Rita', email: 'rita@new.example', tier: 'platinum' },
  {
    tenant: 'acme',
    actor: { id: 'u-7', display_name: 'Sam Admin', roles: ['admin'] },
    sensitiveFields: ['email'],
    eventId: id(100),
    occurredAt: Date.parse('2024-03-15T10:00:00Z'),
  },
)!

/** Six sign-ins by acme's u-7, two at the same millisecond (the cursor must tell them apart). */
export const signIns: AuditEvent[] = [0, 1, 2, 3, 3, 4].map((minute, index) =>
  build.read(
    { type: 'session', id: `s-${index}` },
    {
      tenant: 'acme',
      actor: { id: 'u-7' },
      action: 'session.sign_in',
      category: 'security',
      eventId: id(200 + index),
      occurredAt: Date.parse(`2024-03-15T11:0${minute}:00Z`),
      outcome: index === 5 ? { status: 'failure', reason: 'bad password' } : { status: 'success' },
    },
  ),
)

/** An alert as the alerting service writes it (services/alerting/src/alerts/alertEvent.ts). */
export const alert: AuditEvent = {
  ...build.read(
    { type: 'alert', id: id(300), id2: 'failed-sign-ins', label: '3 failed sign-ins in 5 minutes' },
    {
      tenant: 'acme',
      actor: { type: 'system', id: 'audit-alerting' },
      action: 'alert.raised',
      category: 'security',
      severity: 'warning',
      eventId: id(300),
      occurredAt: Date.parse('2024-03-15T11:05:00Z'),
      attributes: {
        'alert.status': 'raised',
        'alert.rule': 'failed-sign-ins',
        'alert.rule_kind': 'threshold',
        'alert.group_key': 'u-7',
        'alert.figures': '{"count":3}',
        'alert.triggering_event_ids': JSON.stringify([id(205)]),
      },
    },
  ),
  action: { kind: 'operation', name: 'alert.raised' },
}

/** The schemas/README.md example: ticket 9548-B1 of tenant witify, three events. */
export const ticketEvents: AuditEvent[] = ticketExampleLines().map((line) => {
  const draft = parseEventJson(JSON.parse(line) as object)
  return { ...draft, recorded_at: draft.occurred_at + 412 }
})

export const allEvents = [...ticketEvents, emailChange, ...signIns, alert]

export type QueryApiFixture = {
  app: FastifyInstance
  storage: Storage
  database: string
  records: AccessRecord[]
  metrics: Registry
}

/** A database of the test's own with the sink's schema and the events above, and the API over it. */
export async function queryApiFixture(
  options: {
    events?: AuditEvent[]
    limits?: Partial<QueryApiLimits>
    audit?: AccessAudit
    /** The key store sealed values open with; none by default. */
    fieldKeys?: KeyStore
    /** What analysts see of actor details and attributes; the built-in default otherwise. */
    analystVisibility?: AnalystVisibility
  } = {},
): Promise<QueryApiFixture> {
  const opened = await openTestStorage()
  onTestFinished(() => opened.close())
  const { storage, database } = opened
  await runMigrations(storage, { database, retention: defaultRetentionPolicy })
  await insertEvents(storage, options.events ?? allEvents)
  const audit = recordingAccessAudit()
  const metrics = new Registry()
  const app = await createQueryApi({
    storage: await readerStorage(storage, database),
    keys: apiKeys,
    audit: options.audit ?? audit,
    log: createLogger({
      service: 'query-api-test',
      level: (process.env['QUERY_API_TEST_LOG_LEVEL'] as 'silent' | undefined) ?? 'silent',
    }),
    metrics: createQueryApiMetrics(metrics),
    ...(options.limits && { limits: options.limits }),
    ...(options.fieldKeys && { fieldKeys: options.fieldKeys }),
    ...(options.analystVisibility && {
      analystVisibility: fixedAnalystVisibility(options.analystVisibility),
    }),
  })
  onTestFinished(() => app.close())
  return { app, storage, database, records: audit.records, metrics }
}

/**
 * What the API reads through: embedded, the test's own storage; on a server, the query API's own
 * user, with the access `audit-pipeline clickhouse access apply` gives it for the fixture's
 * tenants, so the server's row policies and reader profile hold in every test there too.
 */
async function readerStorage(storage: Storage, database: string): Promise<Storage> {
  const { clickhouseUrl } = inject('stack')
  if (storage.describe().transport !== 'http' || clickhouseUrl === undefined) return storage
  const reader = await queryApiUserStorage(storage, clickhouseUrl, database, fixtureTenants)
  onTestFinished(() => reader.close())
  return reader.storage
}

/** Every tenant the fixture's events have. */
const fixtureTenants = ['acme', 'witify']

/**
 * Stores the events as the sink does: in the trail, or in `audit_record_latest` where it writes
 * the events of records kept at temporal logging level 1. One insert, so one part.
 */
export async function insertEvents(
  storage: Storage,
  events: AuditEvent[],
  table: typeof auditTables.events | typeof auditTables.recordLatest = auditTables.events,
): Promise<void> {
  await storage.client.insert({
    table,
    values: events.map((event, index) =>
      eventRow(event, { topic: 'audit.normalized', partition: 0, offset: String(index) }),
    ),
    format: 'JSONEachRow',
  })
}
