import type { StoredEventRow } from '@audit-pipeline/clickhouse-schema'
import type { StoredEntry } from '@audit-pipeline/integrity'
import { entryHashCheckedSql } from './contentDigestSql.js'
import { columnOf, type NativeBlock } from './nativeFormat.js'

/**
 * The rows the verifier reads, from Native blocks: `audit_events` rows as storedEventSelect
 * selects them (what eventOfStoredRow turns back into the event), and `audit_chain` rows as
 * chainEntrySelect selects them. Each row is an object literal of fixed shape, built column by
 * column: the type checker holds it to StoredEventRow, so a column added to the contract cannot be
 * left out here unnoticed.
 */

/** One `audit_chain` row: the entry (tenant and chain are the query's) and when it was stored. */
export type StoredChainRow = {
  entry: StoredEntry
  storedAtMs: number
  /** ClickHouse found entry_hash to be the hash of the entry's fields (entryHashCheckedSql). */
  hashChecked: boolean
}

/**
 * The select list of chainRowsOf: integers as they are (Native keeps 64 bits exact), times as
 * epoch ms, converted columns under names of their own (as storedEventSelect does).
 */
export const chainEntrySelect = [
  'seq',
  'toString(event_id) AS event_id_text',
  'content_digest',
  'prev_hash',
  'entry_hash',
  'toUnixTimestamp64Milli(occurred_at) AS occurred_at_ms',
  'category',
  'toUnixTimestamp64Milli(stored_at) AS stored_at_ms',
  `toUInt8(${entryHashCheckedSql}) AS hash_checked`,
].join(', ')

/** The block's `audit_events` rows (storedEventSelect), one at a time. */
export function* storedEventRowsOf(block: NativeBlock): Generator<StoredEventRow> {
  const c = <K extends keyof StoredEventRow>(name: K) => {
    const reader = block.reader(name)
    return () => reader.next() as StoredEventRow[K]
  }
  const eventId = c('event_id_text')
  const occurredAt = c('occurred_at_ms')
  const recordedAt = c('recorded_at_ms')
  const tenant = c('tenant')
  const sourceService = c('source_service')
  const sourceInstance = c('source_instance')
  const sourceVersion = c('source_version')
  const actorType = c('actor_type')
  const actorId = c('actor_id')
  const actorName = c('actor_display_name')
  const actorRoles = c('actor_roles')
  const actorIp = c('actor_ip')
  const actorAgent = c('actor_user_agent')
  const actorSession = c('actor_session_id')
  const oboType = c('on_behalf_of_type')
  const oboId = c('on_behalf_of_id')
  const oboName = c('on_behalf_of_display_name')
  const oboRoles = c('on_behalf_of_roles')
  const oboIp = c('on_behalf_of_ip')
  const oboAgent = c('on_behalf_of_user_agent')
  const oboSession = c('on_behalf_of_session_id')
  const actionKind = c('action_kind')
  const actionName = c('action_name')
  const category = c('category')
  const objectType = c('object_type')
  const objectId = c('object_id')
  const objectId2 = c('object_id2')
  const objectId3 = c('object_id3')
  const objectLabel = c('object_label')
  const changes = c('changes')
  const before = c('before')
  const after = c('after')
  const outcomeStatus = c('outcome_status')
  const outcomeReason = c('outcome_reason')
  const severity = c('severity')
  const traceId = c('correlation_trace_id')
  const requestId = c('correlation_request_id')
  const attributes = c('attributes')
  const sensitiveFields = c('sensitive_fields')
  for (let i = 0; i < block.rows; i++) {
    yield {
      event_id_text: eventId(),
      occurred_at_ms: occurredAt(),
      recorded_at_ms: recordedAt(),
      tenant: tenant(),
      source_service: sourceService(),
      source_instance: sourceInstance(),
      source_version: sourceVersion(),
      actor_type: actorType(),
      actor_id: actorId(),
      actor_display_name: actorName(),
      actor_roles: actorRoles(),
      actor_ip: actorIp(),
      actor_user_agent: actorAgent(),
      actor_session_id: actorSession(),
      on_behalf_of_type: oboType(),
      on_behalf_of_id: oboId(),
      on_behalf_of_display_name: oboName(),
      on_behalf_of_roles: oboRoles(),
      on_behalf_of_ip: oboIp(),
      on_behalf_of_user_agent: oboAgent(),
      on_behalf_of_session_id: oboSession(),
      action_kind: actionKind(),
      action_name: actionName(),
      category: category(),
      object_type: objectType(),
      object_id: objectId(),
      object_id2: objectId2(),
      object_id3: objectId3(),
      object_label: objectLabel(),
      changes: changes(),
      before: before(),
      after: after(),
      outcome_status: outcomeStatus(),
      outcome_reason: outcomeReason(),
      severity: severity(),
      correlation_trace_id: traceId(),
      correlation_request_id: requestId(),
      attributes: attributes(),
      sensitive_fields: sensitiveFields(),
    }
  }
}

/** The chain rows of a block read with chainEntrySelect, as entries of (tenant, chain). */
export function chainRowsOf(block: NativeBlock, tenant: string, chain: string): StoredChainRow[] {
  const seq = columnOf(block, 'seq') as number[]
  const eventId = columnOf(block, 'event_id_text') as string[]
  const contentDigest = columnOf(block, 'content_digest') as string[]
  const prevHash = columnOf(block, 'prev_hash') as string[]
  const entryHash = columnOf(block, 'entry_hash') as string[]
  const occurredAt = columnOf(block, 'occurred_at_ms') as number[]
  const category = columnOf(block, 'category') as string[]
  const storedAt = columnOf(block, 'stored_at_ms') as number[]
  const hashChecked = columnOf(block, 'hash_checked') as number[]
  const rows = new Array<StoredChainRow>(block.rows)
  for (let i = 0; i < block.rows; i++) {
    rows[i] = {
      entry: {
        tenant,
        chain,
        seq: seq[i]!,
        event_id: eventId[i]!,
        content_digest: contentDigest[i]!,
        occurred_at: occurredAt[i]!,
        category: category[i]!,
        prev_hash: prevHash[i]!,
        entry_hash: entryHash[i]!,
      },
      storedAtMs: storedAt[i]!,
      hashChecked: hashChecked[i] === 1,
    }
  }
  return rows
}
