import { analystHideableFields, type AnalystHideableField } from '@audit-pipeline/event-model'
import type { AccessScope } from './accessScope.js'

/**
 * What of an event an analyst may be shown, tenant by tenant (QUERY_API_ANALYST_VISIBILITY_FILE):
 * the actor's IP address, session id and user agent (and those of whom it acted for), and the
 * event's attributes. Auditors see them all, whatever the setting.
 */
export const hideableFields = analystHideableFields
export type HideableField = AnalystHideableField

export const fieldVisibilities = ['visible', 'hidden'] as const
export type FieldVisibility = (typeof fieldVisibilities)[number]

/** Each field's visibility in one tenant. */
export type TenantVisibility = Readonly<Record<HideableField, FieldVisibility>>

/**
 * The setting as resolved: the default, and each tenant named in the file with the fields it
 * leaves out already taken from the default.
 */
export type AnalystVisibility = {
  readonly default: TenantVisibility
  readonly tenants: ReadonlyMap<string, TenantVisibility>
}

/** Without the file: IP and session id hidden (they identify a person and a device), the rest shown. */
export const defaultTenantVisibility: TenantVisibility = {
  ip: 'hidden',
  session_id: 'hidden',
  user_agent: 'visible',
  attributes: 'visible',
}

export const defaultAnalystVisibility: AnalystVisibility = {
  default: defaultTenantVisibility,
  tenants: new Map(),
}

/** The visibility in force now: the process follows the file (analystVisibilityWatch.ts). */
export type AnalystVisibilityLookup = { current(): AnalystVisibility }

export const fixedAnalystVisibility = (visibility: AnalystVisibility): AnalystVisibilityLookup => ({
  current: () => visibility,
})

/** What analysts see of an event of `tenant`. */
export function visibilityIn(visibility: AnalystVisibility, tenant: string): TenantVisibility {
  return visibility.tenants.get(tenant) ?? visibility.default
}

/** What each hideable field is, for messages. */
export const hideableFieldNames: Readonly<Record<HideableField, string>> = {
  ip: "the actor's IP address",
  session_id: "the actor's session id",
  user_agent: "the actor's user agent",
  attributes: "the event's attributes",
}

/**
 * Why `field` is hidden from an analyst somewhere in the tenants a request may cover, or undefined
 * when it is visible in all of them. The tenants covered: the one the request names, else the
 * key's; a key of every tenant covers tenants not in the file too (the default's), and every
 * tenant the file names.
 */
export function hiddenWhere(
  visibility: AnalystVisibility,
  field: HideableField,
  scope: Pick<AccessScope, 'tenants'>,
  namedTenant: string | undefined,
): string | undefined {
  const tenants = namedTenant !== undefined ? [namedTenant] : scope.tenants
  if (tenants !== 'all') {
    const hiding = tenants.filter((tenant) => visibilityIn(visibility, tenant)[field] === 'hidden')
    return hiding.length === 0 ? undefined : tenantList(hiding)
  }
  if (visibility.default[field] === 'hidden') return 'every tenant the file does not set otherwise'
  const hiding = [...visibility.tenants]
    .filter(([, tenantVisibility]) => tenantVisibility[field] === 'hidden')
    .map(([tenant]) => tenant)
  return hiding.length === 0 ? undefined : tenantList(hiding)
}

/** `tenant 'acme'`, `tenants 'acme', 'witify'`; past five, how many more. */
function tenantList(tenants: readonly string[]): string {
  const shown = tenants
    .slice(0, 5)
    .map((tenant) => `'${tenant}'`)
    .join(', ')
  const more = tenants.length > 5 ? ` and ${tenants.length - 5} more` : ''
  return `tenant${tenants.length === 1 ? '' : 's'} ${shown}${more}`
}
