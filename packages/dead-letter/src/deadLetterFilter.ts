import type { DeadLetter } from './deadLetterRecord.js'

/** Which dead letters to select; every field given must match. */
export type DeadLetterFilter = {
  errorClass?: string
  sourceTopic?: string
  service?: string
  /** Dead-lettered at or after this time. */
  failedSince?: Date
}

export function hasFilter(filter: DeadLetterFilter | undefined): boolean {
  return (
    filter !== undefined &&
    (filter.errorClass !== undefined ||
      filter.sourceTopic !== undefined ||
      filter.service !== undefined ||
      filter.failedSince !== undefined)
  )
}

export function matchesFilter(dead: DeadLetter, filter: DeadLetterFilter | undefined): boolean {
  if (filter === undefined) return true
  return (
    (filter.errorClass === undefined || dead.errorClass === filter.errorClass) &&
    (filter.sourceTopic === undefined || dead.source.topic === filter.sourceTopic) &&
    (filter.service === undefined || dead.service === filter.service) &&
    (filter.failedSince === undefined || dead.failedAt.getTime() >= filter.failedSince.getTime())
  )
}
