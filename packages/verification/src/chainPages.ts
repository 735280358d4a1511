import { columnOf, nativeBlocks } from './nativeFormat.js'
import { chainRowsOf, type StoredChainRow } from './storedRows.js'

/** The rows of a page of `audit_chain` (Native, chainEntrySelect) of (tenant, chain). Pure. */
export function chainRowsOfPage(bytes: Buffer, tenant: string, chain: string): StoredChainRow[] {
  const rows: StoredChainRow[] = []
  for (const block of nativeBlocks(bytes)) rows.push(...chainRowsOf(block, tenant, chain))
  return rows
}

/**
 * Only the event ids of a page, in row order: what the thread holding the digest index needs to
 * look the events up, while the rows themselves are decoded where the chain is checked.
 */
export function eventIdsOfPage(bytes: Buffer, column = 'event_id_text'): string[] {
  const ids: string[] = []
  for (const block of nativeBlocks(bytes)) for (const id of columnOf(block, column)) ids.push(id as string)
  return ids
}

/** The rows of eventMismatchStatement's answer (Native). Pure. */
export function mismatchesOfPage(bytes: Buffer): { id: string; fromEvents: boolean }[] {
  const rows: { id: string; fromEvents: boolean }[] = []
  for (const block of nativeBlocks(bytes)) {
    const ids = columnOf(block, 'id')
    const sides = columnOf(block, 'from_events')
    ids.forEach((id, i) => rows.push({ id: id as string, fromEvents: sides[i] === 1 }))
  }
  return rows
}
