import { describe, expect, it } from 'vitest'
import { sessionSettings } from '../sessionSettings.js'
import {
  defaultReaderLimits,
  profileSettingSql,
  readerProfileSettings,
  readerProfileViolations,
  type ReaderLimits,
} from './readerProfile.js'

const limits: ReaderLimits = {
  maxMemoryBytes: 1_000_000,
  maxExecutionSeconds: 30,
  maxRowsToRead: 5_000,
  maxResultRows: 100,
  maxResultBytes: 20_000,
}

const entry = (name: string) => readerProfileSettings(limits).find((setting) => setting.name === name)

describe('readerProfileSettings', () => {
  it('is read-only (1), with readonly, allow_ddl and introspection fixed', () => {
    expect(entry('readonly')).toEqual({ name: 'readonly', value: 1, writability: 'CONST' })
    expect(entry('allow_ddl')).toEqual({ name: 'allow_ddl', value: 0, writability: 'CONST' })
    expect(entry('allow_introspection_functions')).toMatchObject({ value: 0, writability: 'CONST' })
  })

  it('caps every limit at its value, changeable in read-only mode between 1 and the cap', () => {
    const caps = {
      max_memory_usage: limits.maxMemoryBytes,
      max_execution_time: limits.maxExecutionSeconds,
      max_rows_to_read: limits.maxRowsToRead,
      max_result_rows: limits.maxResultRows,
      max_result_bytes: limits.maxResultBytes,
    }
    for (const [name, value] of Object.entries(caps)) {
      // MIN 1: 0 means "no limit" for each of them.
      expect(entry(name)).toEqual({ name, value, min: 1, max: value, writability: 'CHANGEABLE_IN_READONLY' })
    }
    for (const name of ['max_bytes_before_external_group_by', 'max_bytes_before_external_sort']) {
      expect(entry(name)).toEqual({
        name,
        value: 500_000,
        max: 1_000_000,
        writability: 'CHANGEABLE_IN_READONLY',
      })
    }
  })

  it('lets no reader change a setting that is not listed: readonly = 1 allows only those marked', () => {
    const changeable = readerProfileSettings(limits)
      .filter((setting) => setting.writability === 'CHANGEABLE_IN_READONLY')
      .map((setting) => setting.name)
    expect(changeable.sort()).toEqual(
      [
        'additional_table_filters',
        'date_time_input_format',
        'max_ast_depth',
        'max_ast_elements',
        'max_bytes_before_external_group_by',
        'max_bytes_before_external_sort',
        'max_execution_time',
        'max_memory_usage',
        'max_parser_depth',
        'max_query_size',
        'max_result_bytes',
        'max_result_rows',
        'max_rows_to_read',
        'optimize_move_to_prewhere_if_final',
        'output_format_json_quote_64bit_integers',
        'session_timezone',
      ].sort(),
    )
  })

  it('writes each entry as CREATE SETTINGS PROFILE takes it', () => {
    expect(readerProfileSettings(limits).map(profileSettingSql)).toContain(
      'max_memory_usage = 1000000 MIN 1 MAX 1000000 CHANGEABLE_IN_READONLY',
    )
    expect(profileSettingSql({ name: 'result_overflow_mode', value: 'throw', writability: 'CONST' })).toBe(
      "result_overflow_mode = 'throw' CONST",
    )
    expect(profileSettingSql({ name: 'session_timezone', writability: 'CHANGEABLE_IN_READONLY' })).toBe(
      'session_timezone CHANGEABLE_IN_READONLY',
    )
  })

  it.each([
    'maxMemoryBytes',
    'maxExecutionSeconds',
    'maxRowsToRead',
    'maxResultRows',
    'maxResultBytes',
  ] as const)('refuses %s below 1 or not whole, naming it', (name) => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => readerProfileSettings({ ...limits, [name]: bad })).toThrow(
        `invalid limits.${name} ${String(bad)}: expected a whole number of at least 1`,
      )
    }
  })
})

describe('readerProfileViolations', () => {
  /** What the query API sends with a query today (services/query-api/src/query/queryCaps.ts, queryRunner.ts). */
  const apiSettings = {
    ...sessionSettings,
    additional_table_filters: "{'audit_events': 'tenant IN (\\'acme\\')'}",
    max_memory_usage: '268435456',
    max_rows_to_read: '100000000',
    read_overflow_mode: 'throw',
    max_result_bytes: '67108864',
    max_result_rows: '10000',
    result_overflow_mode: 'throw',
    max_execution_time: 10,
    timeout_overflow_mode: 'throw',
    max_bytes_before_external_group_by: '134217728',
    max_bytes_before_external_sort: '134217728',
    max_query_size: '262144',
    max_parser_depth: '256',
    max_ast_depth: '256',
    max_ast_elements: '20000',
    readonly: '1',
    quota_key: 'key-1',
  }

  it('accepts what the query API sends under the default limits, quota_key (not a setting) included', () => {
    expect(readerProfileViolations(apiSettings, defaultReaderLimits)).toEqual([])
  })

  it('names a cap raised above the profile, or lowered to 0 ("no limit")', () => {
    expect(readerProfileViolations({ max_memory_usage: 1_000_001, max_execution_time: '0' }, limits)).toEqual(
      [
        "max_memory_usage: 1000001 is above the profile's MAX 1000000",
        "max_execution_time: 0 is below the profile's MIN 1",
      ],
    )
  })

  it('names a setting a reader cannot change, but not one sent with the value the profile gives it', () => {
    expect(
      readerProfileViolations({ max_threads: 2, readonly: 2, result_overflow_mode: 'break' }, limits),
    ).toEqual([
      'max_threads: a reader cannot change it (readonly = 1); the profile has no entry for it',
      'readonly: a reader cannot change it (readonly = 1); the profile has readonly = 1',
      'result_overflow_mode: a reader cannot change it (readonly = 1); the profile has result_overflow_mode = throw',
    ])
    expect(
      readerProfileViolations({ readonly: 1, allow_ddl: '0', result_overflow_mode: 'throw' }, limits),
    ).toEqual([])
  })

  it('names a capped setting given something that is not a number', () => {
    expect(readerProfileViolations({ max_result_rows: 'many', max_rows_to_read: true }, limits)).toEqual([
      'max_result_rows: expected a number, got "many"',
      'max_rows_to_read: expected a number, got true',
    ])
  })
})
