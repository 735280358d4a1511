import type { KeySummary } from '@audit-pipeline/api-keys'
import type { Listing } from './queryOutput.js'

/** The keys as a table: never a secret or a hash (KeySummary holds neither). */
export function keysListing(keys: readonly KeySummary[]): Listing {
  const time = (date: Date | undefined) => date?.toISOString() ?? ''
  return {
    header: ['ID', 'ROLE', 'STATUS', 'CREATED', 'EXPIRES', 'TENANTS'],
    rows: keys.map((key) => [
      key.id,
      key.role,
      key.status === 'revoked' ? `revoked ${time(key.revokedAt)}` : key.status,
      time(key.createdAt),
      key.expiresAt ? time(key.expiresAt) : 'never',
      // Parentheses cannot be in a tenant name, so this never reads as a tenant called "all".
      key.tenants === 'all' ? '(all)' : key.tenants.join(', '),
    ]),
  }
}

/** One key as a JSON line; times ISO-8601 or null. */
export function keyJson(key: KeySummary): string {
  const time = (date: Date | undefined) => date?.toISOString() ?? null
  return JSON.stringify({
    id: key.id,
    role: key.role,
    tenants: key.tenants,
    status: key.status,
    created_at: time(key.createdAt),
    expires_at: time(key.expiresAt),
    revoked_at: time(key.revokedAt),
  })
}

/** How many keys, and in which state: `3 key(s) in <file>: 2 active, 1 revoked`. */
export function keysSummaryLine(keys: readonly KeySummary[], file: string): string {
  const counts = new Map<string, number>()
  for (const key of keys) counts.set(key.status, (counts.get(key.status) ?? 0) + 1)
  const parts = [...counts].map(([status, count]) => `${count} ${status}`)
  return `${keys.length} key(s) in ${file}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`
}

/** What `keys create` prints: the token once, and how to use it. */
export function createdKeyLines(options: {
  id: string
  role: string
  tenants: readonly string[] | 'all'
  expiresAt?: Date
  token: string
  file: string
}): string[] {
  const { id, role, tenants, expiresAt, token, file } = options
  const reads =
    tenants === 'all' ? 'every tenant' : `tenant${tenants.length > 1 ? 's' : ''} ${tenants.join(', ')}`
  const expires = expiresAt ? `expires ${expiresAt.toISOString()}` : 'does not expire'
  return [
    `Created key ${id} in ${file}: ${role}, ${reads}, ${expires}.`,
    'A query API reading that file accepts it at once.',
    '',
    'Its token is shown this once and stored nowhere (the file keeps only its SHA-256). Use it with:',
    '',
    `  export AUDIT_API_KEY=${token}`,
    '',
    'The CLI sends it from AUDIT_API_KEY; other clients send Authorization: Bearer <token>.',
    // On a server the tenant's rows are the server's row policy's, which the access step makes.
    ...(tenants === 'all'
      ? []
      : [
          '',
          `With a ClickHouse server (CLICKHOUSE_URL), give its tenants their roles before it is used:`,
          `  audit-pipeline clickhouse access apply --keys-file ${file}`,
        ]),
  ]
}
