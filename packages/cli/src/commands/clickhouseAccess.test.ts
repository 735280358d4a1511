import { describe, expect, it } from 'vitest'
import {
  ClickHouseError,
  defaultQuotaLimits,
  defaultReaderLimits,
  type HttpStorageConfig,
  type Storage,
} from '@audit-pipeline/storage'
import { accessApplyCommand, embeddedRefusal, type AccessApplyDeps } from './clickhouseAccess.js'
import type { AccessApplyRequest } from './clickhouseAccessOptions.js'

const request = (overrides: Partial<AccessApplyRequest> = {}): AccessApplyRequest => ({
  dryRun: false,
  tenants: ['globex'],
  keysFile: { path: '/etc/keys.json', origin: '--keys-file' },
  limits: defaultReaderLimits,
  quota: defaultQuotaLimits,
  ...overrides,
})

const server = {
  CLICKHOUSE_URL: 'http://ch.internal:8123',
  CLICKHOUSE_ADMIN_USERNAME: 'admin',
  CLICKHOUSE_ADMIN_PASSWORD: 'admin-pw',
}

/** A server that answers version() and system.users, records commands, and refuses `refuse`. */
function fakeServer(
  options: { version?: string; users?: string[]; refuse?: (sql: string) => Error | undefined } = {},
) {
  const commands: string[] = []
  const opened: HttpStorageConfig[] = []
  let closed = 0
  const storage = {
    client: {
      command: ({ query }: { query: string }) => {
        const error = options.refuse?.(query)
        if (error) return Promise.reject(error)
        commands.push(query)
        return Promise.resolve({})
      },
      query: ({ query }: { query: string }) =>
        Promise.resolve({
          json: () =>
            Promise.resolve(
              query.includes('version()')
                ? [{ version: options.version ?? '25.8.4.13' }]
                : (options.users ?? []).map((name) => ({ name })),
            ),
        }),
    },
    describe: () => ({ transport: 'http', url: 'http://ch.internal:8123', database: 'default' }),
    close: () => {
      closed += 1
      return Promise.resolve()
    },
  } as unknown as Storage
  const deps: AccessApplyDeps = {
    openStorage: (config) => {
      opened.push(config)
      return Promise.resolve(storage)
    },
    readFile: () => JSON.stringify({ keys: [{ id: 'k', tenants: ['acme'] }, { id: 'all' }] }),
    newSalt: () => 'ab'.repeat(32),
  }
  return { deps, commands, opened, closed: () => closed }
}

function capture() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) }, out, err }
}

describe('accessApplyCommand', () => {
  it('refuses embedded ClickHouse, saying what embedded mode does instead', async () => {
    const { io } = capture()
    await expect(accessApplyCommand(request(), {}, io, fakeServer().deps)).rejects.toThrow(embeddedRefusal)
    expect(embeddedRefusal).toContain('set CLICKHOUSE_URL')
    expect(embeddedRefusal).toContain('no users, roles or row policies')
  })

  it('prints the plan with passwords hidden and connects to nothing on --dry-run', async () => {
    const fake = fakeServer()
    const { io, out } = capture()
    const env = { CLICKHOUSE_URL: server.CLICKHOUSE_URL, CLICKHOUSE_SINK_PASSWORD: 'sink-secret' }
    expect(await accessApplyCommand(request({ dryRun: true }), env, io, fake.deps)).toBe(0)
    expect(fake.opened).toEqual([])
    const text = out.join('\n')
    expect(text).toContain('for database audit and 2 tenant(s); password hashes hidden')
    expect(text).toContain('CREATE ROLE IF NOT EXISTS `audit_tenant_61636d65`;')
    expect(text).toContain("IDENTIFIED WITH sha256_hash BY '[hidden]' SALT '[hidden]'")
    expect(text).not.toContain('sink-secret')
    expect(text).not.toContain('ab'.repeat(32))
    expect(text).toMatch(/^-- the sink user: /m)
  })

  it("runs every statement as the administrator, for the keys file's and --tenant's tenants, and closes", async () => {
    const fake = fakeServer()
    const { io, out } = capture()
    const env = { ...server, CLICKHOUSE_SINK_PASSWORD: 's', CLICKHOUSE_QUERY_API_PASSWORD: 'q' }
    expect(await accessApplyCommand(request({ database: 'audit_staging' }), env, io, fake.deps)).toBe(0)
    expect(fake.opened).toEqual([
      { kind: 'http', url: server.CLICKHOUSE_URL, username: 'admin', password: 'admin-pw' },
    ])
    expect(fake.commands[0]).toBe('CREATE ROLE IF NOT EXISTS `audit_staging_sink_writer`')
    expect(fake.commands).toContain(
      'GRANT `audit_staging_reader`, `audit_staging_all_tenants`, `audit_staging_tenant_61636d65`, `audit_staging_tenant_676c6f626578` TO `audit_staging_query_api`',
    )
    expect(fake.commands.join('\n')).not.toMatch(/\bs'|\bq'/)
    expect(fake.closed()).toBe(1)
    expect(out).toEqual([
      `applied ${fake.commands.length} statements to http://ch.internal:8123: database audit_staging, users audit_staging_sink and audit_staging_query_api, 2 tenant role(s)`,
    ])
  })

  it('needs a password the first time a user is made, naming the variable', async () => {
    const fake = fakeServer({ users: ['audit_query_api'] })
    const { io } = capture()
    await expect(accessApplyCommand(request(), server, io, fake.deps)).rejects.toThrow(
      'CLICKHOUSE_SINK_PASSWORD: required the first time: user audit_sink does not exist on http://ch.internal:8123',
    )
    expect(fake.commands).toEqual([])
    expect(fake.closed()).toBe(1)
  })

  it('applies without passwords when both users exist, leaving their passwords alone', async () => {
    const fake = fakeServer({ users: ['audit_sink', 'audit_query_api'] })
    const { io } = capture()
    expect(await accessApplyCommand(request(), server, io, fake.deps)).toBe(0)
    expect(fake.commands.join('\n')).not.toContain('IDENTIFIED')
  })

  it('needs the administrator to apply, and a server recent enough for per-query roles', async () => {
    const { io } = capture()
    await expect(
      accessApplyCommand(request(), { CLICKHOUSE_URL: server.CLICKHOUSE_URL }, io, fakeServer().deps),
    ).rejects.toThrow('CLICKHOUSE_ADMIN_USERNAME: required to apply')
    await expect(
      accessApplyCommand(
        request(),
        server,
        io,
        fakeServer({ version: '24.3.2.23', users: ['audit_sink', 'audit_query_api'] }).deps,
      ),
    ).rejects.toThrow('ClickHouse 24.3.2.23 at http://ch.internal:8123 is too old')
  })

  it('names the statement that failed, without the hash a server message might quote', async () => {
    const refusal = new ClickHouseError({
      message: "Syntax error near 'abcdef…'",
      code: '62',
      type: 'SYNTAX_ERROR',
    })
    const fake = fakeServer({
      refuse: (sql) => (sql.startsWith('ALTER USER `audit_sink` IDENTIFIED') ? refusal : undefined),
    })
    const { io } = capture()
    const env = { ...server, CLICKHOUSE_SINK_PASSWORD: 's', CLICKHOUSE_QUERY_API_PASSWORD: 'q' }
    const failure = accessApplyCommand(request(), env, io, fake.deps)
    await expect(failure).rejects.toThrow(
      /statement \d+ of \d+ failed \(the sink user: [^)]*\):\n {2}ALTER USER `audit_sink` IDENTIFIED WITH sha256_hash BY '\[hidden\]' SALT '\[hidden\]'\nClickHouse refused it: SYNTAX_ERROR \(code 62\)$/,
    )
    const other = fakeServer({
      refuse: (sql) => (sql.startsWith('CREATE SETTINGS PROFILE') ? refusal : undefined),
    })
    await expect(accessApplyCommand(request(), env, io, other.deps)).rejects.toThrow(
      "Syntax error near 'abcdef…'",
    )
  })

  it('warns that only --tenant tenants get roles without a keys file', async () => {
    const { io, err } = capture()
    await accessApplyCommand(request({ dryRun: true, keysFile: undefined }), server, io, fakeServer().deps)
    expect(err).toEqual([expect.stringContaining('no keys file (--keys-file, QUERY_API_KEYS_FILE)')])
  })
})
