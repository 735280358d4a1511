import { randomUUID } from 'node:crypto'
import type { AuditProducer } from '@audit-pipeline/producer'

/**
 * How access records are stored: events about an `audit_query` object (the request id), with the
 * request's filters as JSON text in the `filters` attribute. Analysts' answers read them back
 * (answers/redaction.ts hides the filter values they may not see).
 */
export const accessRecordForm = { objectType: 'audit_query', filtersAttribute: 'filters' } as const

/** One request for audit data, allowed or refused: what the API records about its own use. */
export type AccessRecord = {
  /** Filed under this tenant; the pipeline's own when undefined (see app.ts, recordTenant). */
  tenant: string | undefined
  /** The key used; null when none or an unparsable one was sent. */
  keyId: string | null
  role: string | null
  outcome: 'read' | 'denied' | 'failed'
  /** e.g. `GET /v1/events` */
  endpoint: string
  /** Why it was refused (401/403/400 message); absent when read. */
  reason?: string
  /** The filters as the caller sent them (values included: this is the audit trail). */
  filters: Record<string, unknown>
  rowCount?: number
  status: number
  /** The client's address as the server saw it. */
  ip: string
  userAgent?: string
  requestId: string
}

/** Records access; resolves once the record is safely stored (Kafka acknowledged it). */
export type AccessAudit = { record(access: AccessRecord): Promise<void> }

export type AccessAuditOptions = {
  producer: AuditProducer
  /** Tenant of access records whose request names none of its own (key unrestricted, no filter). */
  platformTenant: string
}

/**
 * Access records as audit events through the producer SDK, so the pipeline audits itself:
 * actor = the key (a `service` actor with the key's role), object `audit_query` with the request
 * id, action `audit_query.read` or `audit_query.denied` (outcome denied, with the reason),
 * category `security`, and endpoint, filters and row count as attributes.
 */
export function createAccessAudit({ producer, platformTenant }: AccessAuditOptions): AccessAudit {
  return {
    async record(access) {
      const attributes: Record<string, string> = {
        endpoint: access.endpoint,
        [accessRecordForm.filtersAttribute]: JSON.stringify(access.filters),
        status: String(access.status),
        ...(access.rowCount !== undefined && { row_count: String(access.rowCount) }),
      }
      await producer.read(
        { type: accessRecordForm.objectType, id: access.requestId },
        {
          tenant: access.tenant ?? platformTenant,
          action: `audit_query.${access.outcome}`,
          category: 'security',
          actor: {
            type: 'service',
            id: access.keyId ?? 'anonymous',
            roles: access.role ? [access.role] : [],
            ip: access.ip,
            ...(access.userAgent !== undefined && { user_agent: access.userAgent }),
          },
          outcome:
            access.outcome === 'read'
              ? { status: 'success' }
              : access.outcome === 'denied'
                ? { status: 'denied', reason: access.reason ?? 'refused' }
                : { status: 'failure', reason: access.reason ?? 'failed' },
          severity: access.outcome === 'read' ? 'info' : 'warning',
          correlation: { request_id: access.requestId },
          attributes,
          eventId: randomUUID(),
        },
      )
    },
  }
}

/** An AccessAudit that keeps records in memory: for tests and for running without Kafka. */
export function recordingAccessAudit(): AccessAudit & { records: AccessRecord[] } {
  const records: AccessRecord[] = []
  return {
    records,
    record(access) {
      records.push(access)
      return Promise.resolve()
    },
  }
}
