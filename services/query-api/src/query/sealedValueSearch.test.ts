import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { parseJsonText } from '@audit-pipeline/event-model'
import {
  openLocalKeyStore,
  parseSealedValue,
  sealValue,
  type KeyStore,
} from '@audit-pipeline/field-encryption'
import type { AccessScope } from '../access/accessScope.js'
import type { StoredEventRow } from '../answers/eventRow.js'
import { eventConditions } from './eventFilters.js'
import {
  confirmsValueSearch,
  sealedSearchTenants,
  sealedValueIndexes,
  sealedValueTenantsQuery,
  searchesSealedValues,
} from './sealedValueSearch.js'

const auditor: AccessScope = { keyId: 'k', role: 'auditor', tenants: 'all' }
const acmeAuditor: AccessScope = { keyId: 'k', role: 'auditor', tenants: ['acme', 'globex'] }
const analyst: AccessScope = { keyId: 'k', role: 'analyst', tenants: 'all' }

const folders: string[] = []
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true })
})

async function keyStore(): Promise<KeyStore> {
  const directory = await mkdtemp(join(tmpdir(), 'query-api-field-keys-'))
  folders.push(directory)
  return openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32), cacheMs: 0 })
}

/** The blind index a value sealed for `tenant` carries. */
async function sealedIndex(keys: KeyStore, tenant: string, valueJson: string): Promise<string> {
  const [dataKey, indexKey] = await Promise.all([
    keys.dataKeyFor(tenant, 'someone'),
    keys.indexKeyFor(tenant),
  ])
  const sealed = sealValue(parseJsonText(valueJson, 'value'), dataKey, indexKey, { tenant, eventId: 'e-1' })
  return parseSealedValue(sealed)!.blindIndex
}

describe('a search by value into sealed values', () => {
  it('is an auditor’s, by from or to', () => {
    expect(searchesSealedValues({ changed: 'email', changedTo: 'x' }, auditor)).toBe(true)
    expect(searchesSealedValues({ changed: 'email', changedFrom: 'x' }, auditor)).toBe(true)
    expect(searchesSealedValues({ changed: 'email' }, auditor)).toBe(false)
    expect(searchesSealedValues({ changed: 'email', changedTo: 'x' }, analyst)).toBe(false)
  })

  it('needs the indexes of the tenant named, else of the key’s tenants; the data tells for a key of all', () => {
    expect(sealedSearchTenants({ tenant: 'acme' }, auditor)).toEqual(['acme'])
    expect(sealedSearchTenants({}, acmeAuditor)).toEqual(['acme', 'globex'])
    expect(sealedSearchTenants({}, auditor)).toBeUndefined()
    const { query, params } = sealedValueTenantsQuery(
      { changed: 'email', changedTo: 'x', changedToSealed: ['acme:0123456789abcdef'], actor: 'u-7' },
      auditor,
      10,
    )
    expect(query).toContain('SELECT DISTINCT tenant FROM audit_events_deduplicated')
    expect(query).toContain("startsWith(ifNull(c.new_value, ''), '\"enc:v1:')")
    expect(query).not.toContain('f_changed_to')
    expect(params).toEqual({ f_actor_id: 'u-7', f_changed: 'email', max_tenants: 11 })
  })

  it('looks for the blind index each stored form of the value has when sealed, per tenant', async () => {
    const keys = await keyStore()
    const indexes = await sealedValueIndexes(
      { changedFrom: '3', changedTo: 'rita@new.example' },
      ['acme', 'globex'],
      keys,
    )
    expect(indexes.changedToSealed).toEqual([
      `acme:${await sealedIndex(keys, 'acme', '"rita@new.example"')}`,
      `globex:${await sealedIndex(keys, 'globex', '"rita@new.example"')}`,
    ])
    // `3` is the string or the number; key order does not matter to an index.
    expect(new Set(indexes.changedFromSealed)).toEqual(
      new Set([
        `acme:${await sealedIndex(keys, 'acme', '"3"')}`,
        `acme:${await sealedIndex(keys, 'acme', '3')}`,
        `globex:${await sealedIndex(keys, 'globex', '"3"')}`,
        `globex:${await sealedIndex(keys, 'globex', '3')}`,
      ]),
    )
    const object = await sealedValueIndexes({ changedTo: '{"b":1,"a":[true]}' }, ['acme'], keys)
    expect(object.changedToSealed).toContain(`acme:${await sealedIndex(keys, 'acme', '{"a":[true],"b":1}')}`)
    expect(object).not.toHaveProperty('changedFromSealed')
  })

  it('compares them with the blind index of stored sealed values, for an auditor only', () => {
    const filters = {
      changed: 'email',
      changedTo: 'rita@new.example',
      changedToSealed: ['acme:0123456789abcdef'],
    }
    const audited = eventConditions(filters, auditor)
    expect(audited.conditions).toEqual([
      `arrayExists(c -> c.path = {f_changed:String} AND (c.new_value IN {f_changed_to:Array(String)} OR has({f_changed_to_sealed:Array(String)}, concat(tenant, ':', extract(ifNull(c.new_value, ''), '^"enc:v1:[A-Za-z0-9_-]{1,64}:([0-9a-f]{16}):[A-Za-z0-9_-]{38,}"$')))), changes)`,
    ])
    expect(audited.params).toEqual({
      f_changed: 'email',
      f_changed_to: ['"rita@new.example"'],
      f_changed_to_sealed: ['acme:0123456789abcdef'],
    })
    const analysed = eventConditions(filters, analyst)
    expect(analysed.params).not.toHaveProperty('f_changed_to_sealed')
    expect(analysed.conditions).toEqual([
      'arrayExists(c -> c.path = {f_changed:String} AND c.new_value IN {f_changed_to:Array(String)}, changes)',
      'empty(sensitive_fields)',
    ])
  })

  it('keeps a row found by blind index only when its opened value is the one searched for', () => {
    const stored = {
      changes: [
        { path: 'tier', old_value: '"gold"', new_value: '"platinum"', value_type: 'string' },
        { path: 'email', old_value: '"enc:v1:old"', new_value: '"enc:v1:new"', value_type: 'string' },
      ],
    } as unknown as StoredEventRow
    const opened = (oldValue: string, newValue: string) =>
      ({
        changes: [stored.changes[0], { ...stored.changes[1], old_value: oldValue, new_value: newValue }],
      }) as unknown as StoredEventRow
    const search = {
      changed: 'email',
      changedTo: 'rita@new.example',
      changedToSealed: ['acme:0123456789abcdef'],
    }
    expect(confirmsValueSearch(stored, opened('"a"', '"rita@new.example"'), search)).toBe(true)
    expect(confirmsValueSearch(stored, opened('"a"', '"[erased]"'), search)).toBe(false)
    expect(confirmsValueSearch(stored, opened('"a"', '"[unreadable]"'), search)).toBe(false)
    expect(
      confirmsValueSearch(stored, opened('"a"', '"rita@new.example"'), { ...search, changedFrom: 'b' }),
    ).toBe(false)
    // A value stored in the clear is confirmed as the query compared it.
    expect(confirmsValueSearch(stored, stored, { ...search, changed: 'tier', changedTo: 'platinum' })).toBe(
      true,
    )
    // Numbers and objects compare as JSON, whatever the stored spacing or key order.
    expect(
      confirmsValueSearch(stored, opened('"a"', '{"b": 1, "a": 2.50}'), {
        ...search,
        changedTo: '{"a":2.50,"b":1}',
      }),
    ).toBe(true)
    expect(confirmsValueSearch(stored, opened('"a"', '3'), { ...search, changedTo: '3' })).toBe(true)
    // A search that did not look into sealed values keeps every row the query found.
    expect(
      confirmsValueSearch(stored, opened('"a"', '"[erased]"'), { changed: 'email', changedTo: 'x' }),
    ).toBe(true)
  })
})
