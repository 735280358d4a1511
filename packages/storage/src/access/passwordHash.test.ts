import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sha256PasswordHash } from './passwordHash.js'

describe('sha256PasswordHash', () => {
  it("is SHA-256 of the password followed by the salt, as ClickHouse's sha256_password stores it", () => {
    const salt = '00112233445566778899aabbccddeeff'
    // printf 'p4ss00112233445566778899aabbccddeeff' | sha256sum
    expect(sha256PasswordHash({ password: 'p4ss', salt })).toEqual({
      sha256Hex: 'cd61634d004fac920f62fc3381cf591f29610603f3021389242d4837c4da923c',
      salt,
    })
    expect(sha256PasswordHash({ password: 'pässwörd', salt }).sha256Hex).toBe(
      createHash('sha256')
        .update(Buffer.from(`pässwörd${salt}`, 'utf8'))
        .digest('hex'),
    )
  })

  it('refuses an empty password and a salt that is not 16 to 64 hex digits', () => {
    expect(() => sha256PasswordHash({ password: '', salt: '00112233445566778899aabbccddeeff' })).toThrow(
      'invalid password: empty',
    )
    for (const salt of ['', 'abc', "00112233445566778899aabbccddeef'", 'x'.repeat(32), '0'.repeat(65)]) {
      expect(() => sha256PasswordHash({ password: 'p', salt })).toThrow('expected 16 to 64 hex digits')
    }
  })
})
