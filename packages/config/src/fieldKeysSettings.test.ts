import { describe, expect, it } from 'vitest'
import { fieldKeysPairProblem } from './fieldKeysSettings.js'

describe('fieldKeysPairProblem', () => {
  it('accepts both or neither', () => {
    expect(fieldKeysPairProblem(undefined, undefined)).toBeUndefined()
    expect(fieldKeysPairProblem('', '')).toBeUndefined()
    expect(fieldKeysPairProblem('/keys', '/kek')).toBeUndefined()
  })

  it('names the one missing', () => {
    expect(fieldKeysPairProblem('/keys', undefined)).toEqual({
      setting: 'FIELD_KEYS_KEK_FILE',
      message:
        "required with FIELD_KEYS_DIR: set both (the key store's folder and its key-encryption key file) or neither",
    })
    expect(fieldKeysPairProblem('', '/kek')?.setting).toBe('FIELD_KEYS_DIR')
  })
})
