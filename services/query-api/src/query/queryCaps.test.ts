import { describe, expect, it } from 'vitest'
import { defaultReaderLimits, readerProfileViolations, sessionSettings } from '@audit-pipeline/storage'
import { tenantTableFilters } from '../access/tenantTableFilters.js'
import { defaultQueryApiLimits } from '../app.js'
import { defaultQueryCaps, queryCapSettings } from './queryCaps.js'

describe('queryCapSettings', () => {
  it('caps memory, rows read, answer size and time, spills at half the memory, and sets readonly last', () => {
    const settings = queryCapSettings(defaultQueryCaps, 10)
    expect(settings).toMatchObject({
      max_memory_usage: String(256 * 1024 ** 2),
      max_rows_to_read: '100000000',
      max_result_bytes: String(64 * 1024 ** 2),
      max_result_rows: '10',
      max_execution_time: 10,
      max_bytes_before_external_group_by: String(128 * 1024 ** 2),
      max_bytes_before_external_sort: String(128 * 1024 ** 2),
    })
    // Embedded ClickHouse applies settings in order: nothing may follow readonly.
    expect(Object.keys(settings).at(-1)).toBe('readonly')
    expect(queryCapSettings(defaultQueryCaps)).not.toHaveProperty('max_result_rows')
  })

  it("sends only what a ClickHouse server's reader profile lets the API user set", () => {
    const filters = tenantTableFilters({ keyId: 'k', role: 'auditor', tenants: ['acme'] }, 'audit')
    const sent = {
      ...sessionSettings,
      additional_table_filters: filters,
      ...queryCapSettings(defaultQueryCaps, defaultQueryApiLimits.sql.maxResultRows),
      quota_key: 'k',
    }
    expect(readerProfileViolations(sent, defaultReaderLimits)).toEqual([])
  })
})
