import { redactEvent, type AuditEvent } from '@audit-pipeline/event-model'

/** What a destination may see of an event. */
export type Projection = {
  /** Field paths sent (and nothing else, `event_id` aside); undefined: every field. */
  include?: readonly (readonly string[])[]
  /** Field paths removed after `include`. */
  exclude: readonly (readonly string[])[]
  /** Send the values at the event's `sensitive_fields` as they are; otherwise they are `[redacted]`. */
  allowSensitive: boolean
}

export type ProjectedEvent = Record<string, unknown> & { event_id: string; content_digest?: string }

/**
 * The field the forwarder adds beside `event_id`: the event's content digest. Not an event field,
 * so a destination may name it only whole, in `fields.exclude` (or, as a no-op, `fields.include`).
 */
export const contentDigestField = 'content_digest'

/** Whether a destination receives `content_digest`: always, unless its `exclude` names it. */
export function sendsContentDigest(projection: Projection): boolean {
  return !projection.exclude.some((path) => path.length === 1 && path[0] === contentDigestField)
}

/**
 * The event as a destination receives it. Sensitive values are replaced by `[redacted]` in
 * `changes`, `before` and `after` unless the destination is allowed them (the redaction the
 * producer can do, applied again: values the producer already replaced stay as they are). Then
 * `include` keeps only the listed paths and `exclude` removes paths. `event_id` is always sent:
 * it is what receivers deduplicate by. So is `content_digest` (`digest`), second after `event_id`,
 * unless `exclude` names it: the caller computes it over the whole event as decoded, before any
 * of this, so it equals the trail's whatever this destination is shown. The caller need not
 * compute it for a destination that excludes it (undefined).
 */
export function projectEvent(
  event: AuditEvent,
  projection: Projection,
  digest: string | undefined,
): ProjectedEvent {
  const visible = projection.allowSensitive ? event : redactEvent(event, { mode: 'drop' })
  let shaped: Record<string, unknown> = visible
  if (projection.include) {
    shaped = { event_id: event.event_id }
    for (const path of projection.include) copyPath(visible, shaped, path)
  }
  if (projection.exclude.length > 0) {
    shaped = copyAlongPaths(shaped, projection.exclude)
    for (const path of projection.exclude)
      if (path.length > 0 && path[0] !== 'event_id') removePath(shaped, path)
  }
  if (digest === undefined || !sendsContentDigest(projection)) return shaped as ProjectedEvent
  // A new object either way (`shaped` may be the decoded event itself); the spread keeps
  // `event_id` in the first place it was given here.
  return { event_id: event.event_id, content_digest: digest, ...shaped }
}

/** Field paths as written in config (`actor.ip`, `attributes.channel`), split into keys. */
export function parseFieldPath(path: string): string[] {
  return path.split('.')
}

function copyPath(from: Record<string, unknown>, to: Record<string, unknown>, path: readonly string[]): void {
  let source: unknown = from
  let target = to
  for (const [index, key] of path.entries()) {
    if (source === null || typeof source !== 'object' || !Object.hasOwn(source, key)) return
    const value = (source as Record<string, unknown>)[key]
    if (index === path.length - 1) {
      target[key] = value
      return
    }
    const existing = target[key]
    const next: Record<string, unknown> =
      existing !== null && typeof existing === 'object' ? (existing as Record<string, unknown>) : {}
    target[key] = next
    target = next
    source = value
  }
}

/** Copies the objects along `paths` so removing from them leaves the decoded event untouched. */
function copyAlongPaths(
  value: Record<string, unknown>,
  paths: readonly (readonly string[])[],
): Record<string, unknown> {
  const root = { ...value }
  for (const path of paths) {
    let node: Record<string, unknown> = root
    for (const key of path.slice(0, -1)) {
      const child = node[key]
      if (child === null || typeof child !== 'object' || Array.isArray(child)) break
      const copy = { ...(child as Record<string, unknown>) }
      node[key] = copy
      node = copy
    }
  }
  return root
}

function removePath(value: Record<string, unknown>, path: readonly string[]): void {
  let node: unknown = value
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return
    node = (node as Record<string, unknown>)[key]
  }
  if (node !== null && typeof node === 'object') delete (node as Record<string, unknown>)[path.at(-1)!]
}
