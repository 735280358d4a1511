import { alertEventForm } from './alertEvents.js'
import type { AuditEvent } from './auditEvent.js'

/**
 * Records only the pipeline's own services write, each on its own topic: alerts (the alerting
 * service, `audit.alerts`), access records (the query API, `audit.access`) and integrity records
 * (the ClickHouse sink's checkpoints). A producer event that claims one of them, by object type or
 * by action name, is refused wherever it arrives, so nobody outside the pipeline can forge,
 * replace or bury an alert or an access record.
 */
export const reservedNamespaces = {
  alert: { objectType: alertEventForm.objectType, actionPrefix: 'alert.' },
  'access-record': { objectType: 'audit_query', actionPrefix: 'audit_query.' },
  integrity: { objectType: 'audit_checkpoint', actionPrefix: 'audit_checkpoint.' },
} as const

export type ReservedNamespace = keyof typeof reservedNamespaces

const namespaces = Object.entries(reservedNamespaces) as [
  ReservedNamespace,
  (typeof reservedNamespaces)[ReservedNamespace],
][]

/**
 * The reserved namespace an event claims, or undefined. Object types are compared as written and
 * lower-cased (ClickHouse queries and rules match them as written, but `Alert` would read as an
 * alert to a person); action names by their prefix, likewise.
 */
export function reservedNamespaceOf(
  event: Pick<AuditEvent, 'object' | 'action'>,
): ReservedNamespace | undefined {
  const objectType = event.object.type.toLowerCase()
  const action = event.action.name.toLowerCase()
  for (const [name, { objectType: reservedType, actionPrefix }] of namespaces) {
    if (objectType === reservedType || action.startsWith(actionPrefix)) return name
  }
  return undefined
}
