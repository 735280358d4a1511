import { describe, expect, it } from 'vitest'
import { defaultQuotaLimits, defaultReaderLimits } from '@audit-pipeline/storage'
import { parseAccessApplyFlags, tenantsOfKeysFile, userPasswords } from './clickhouseAccessOptions.js'

describe('parseAccessApplyFlags', () => {
  it('takes the defaults, and the keys file from QUERY_API_KEYS_FILE, relative to the working directory', () => {
    expect(parseAccessApplyFlags({ tenant: [] }, { QUERY_API_KEYS_FILE: 'keys.json' }, '/srv')).toEqual({
      dryRun: false,
      tenants: [],
      keysFile: { path: '/srv/keys.json', origin: 'QUERY_API_KEYS_FILE' },
      limits: defaultReaderLimits,
      quota: defaultQuotaLimits,
    })
    expect(parseAccessApplyFlags({ tenant: [] }, {}, '/srv').keysFile).toBeUndefined()
  })

  it('takes --keys-file before QUERY_API_KEYS_FILE, and every other flag', () => {
    const request = parseAccessApplyFlags(
      {
        dryRun: true,
        database: 'audit_staging',
        tenant: ['acme', 'globex'],
        keysFile: '/etc/keys.json',
        maxMemoryBytes: '1000',
        maxExecutionSeconds: '5',
        maxRowsToRead: '2000',
        maxResultRows: '30',
        maxResultBytes: '4000',
        quotaQueriesPerHour: '6',
        quotaReadRowsPerHour: '7',
        quotaExecutionSecondsPerHour: '8',
      },
      { QUERY_API_KEYS_FILE: 'other.json' },
    )
    expect(request).toEqual({
      dryRun: true,
      database: 'audit_staging',
      tenants: ['acme', 'globex'],
      keysFile: { path: '/etc/keys.json', origin: '--keys-file' },
      limits: {
        maxMemoryBytes: 1000,
        maxExecutionSeconds: 5,
        maxRowsToRead: 2000,
        maxResultRows: 30,
        maxResultBytes: 4000,
      },
      quota: { queriesPerHour: 6, readRowsPerHour: 7, executionSecondsPerHour: 8 },
    })
  })

  it('names every bad flag with what it accepts', () => {
    expect(() =>
      parseAccessApplyFlags(
        {
          tenant: [' '],
          database: 'audit-prod',
          maxMemoryBytes: '1GB',
          quotaQueriesPerHour: '0',
          keysFile: '',
        },
        {},
      ),
    ).toThrow(
      "--max-memory-bytes must be a positive integer; got '1GB'; --quota-queries-per-hour must be a positive integer; got '0'; " +
        "--database must be letters, digits and _, not starting with a digit; got 'audit-prod'; --tenant must not be empty; " +
        '--keys-file must not be empty',
    )
  })
})

describe('tenantsOfKeysFile', () => {
  it("lists the tenants of the restricted keys; a key that reads every tenant lists none; other fields don't matter", () => {
    const text = JSON.stringify({
      keys: [
        { id: 'a', role: 'auditor', secret_sha256: 'x', revoked_at: '2026-01-01T00:00:00Z' },
        { id: 'b', tenants: ['acme', 'globex'] },
        { id: 'c', tenants: ['acme'] },
      ],
    })
    expect(tenantsOfKeysFile(text, 'keys.json')).toEqual(['acme', 'globex', 'acme'])
  })

  it('names the file, and the key, when the file is not what it expects', () => {
    expect(() => tenantsOfKeysFile('{', 'keys.json')).toThrow('keys.json: not JSON')
    expect(() => tenantsOfKeysFile('[]', 'keys.json')).toThrow('keys.json: expected {"keys": [...]}')
    expect(() => tenantsOfKeysFile('{"keys":[{"tenants":"acme"}]}', 'keys.json')).toThrow(
      'keys.json: keys.0.tenants: expected a list of tenant names',
    )
    expect(() => tenantsOfKeysFile('{"keys":[{},{"tenants":[""]}]}', 'keys.json')).toThrow('keys.1.tenants')
  })
})

describe('userPasswords', () => {
  it('reads the two passwords from the environment, empty meaning unset', () => {
    expect(userPasswords({ CLICKHOUSE_SINK_PASSWORD: 's', CLICKHOUSE_QUERY_API_PASSWORD: '' })).toEqual({
      sink: 's',
    })
    expect(userPasswords({ CLICKHOUSE_QUERY_API_PASSWORD: 'q' })).toEqual({ queryApi: 'q' })
  })
})
