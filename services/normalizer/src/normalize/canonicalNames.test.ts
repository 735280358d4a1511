import { actionKinds, standardCategories } from '@audit-pipeline/event-model'
import { describe, expect, it } from 'vitest'
import { actionKindAliases, canonicalActionKind, canonicalCategory } from './canonicalNames.js'

describe('canonicalActionKind', () => {
  it('maps each canonical kind to itself, whatever its case and surrounding spaces', () => {
    for (const kind of actionKinds) {
      expect(canonicalActionKind(kind)).toBe(kind)
      expect(canonicalActionKind(`  ${kind.toUpperCase()}\t`)).toBe(kind)
    }
  })

  it.each([
    ['created', 'create'],
    ['Inserted', 'create'],
    ['modify', 'update'],
    ['Modified', 'update'],
    ['UPDATED', 'update'],
    ['remove', 'delete'],
    [' deleted ', 'delete'],
    ['view', 'read'],
    ['executed', 'operation'],
  ])('maps the alias %j to %s', (word, kind) => {
    expect(canonicalActionKind(word)).toBe(kind)
  })

  it('maps every alias in the table to its kind, and no word to two kinds', () => {
    const seen = new Map<string, string>()
    for (const kind of actionKinds) {
      for (const alias of actionKindAliases[kind]) {
        expect(canonicalActionKind(alias)).toBe(kind)
        expect(seen.get(alias) ?? kind).toBe(kind)
        expect(actionKinds as readonly string[]).not.toContain(alias)
        seen.set(alias, kind)
      }
    }
  })

  it('knows no ambiguous or unknown word', () => {
    for (const word of ['upsert', 'save', 'frobnicate', '', 'create d']) {
      expect(canonicalActionKind(word)).toBeUndefined()
    }
  })
})

describe('canonicalCategory', () => {
  it('trims and folds case to the policy spelling', () => {
    expect(canonicalCategory(' Security ', standardCategories)).toBe('security')
    expect(canonicalCategory('BUSINESS', standardCategories)).toBe('business')
    expect(canonicalCategory('marketing', ['business', 'Marketing'])).toBe('Marketing')
  })

  it('returns an unknown category trimmed and lower-cased, for the policy check to refuse', () => {
    expect(canonicalCategory(' Gossip ', standardCategories)).toBe('gossip')
  })
})
