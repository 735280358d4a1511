import { createHash } from 'node:crypto'

/** A password for a user the access statements create, and the salt to hash it with. */
export type PasswordInput = {
  /** The secret itself: hashed here, never sent to ClickHouse, never printed. */
  password: string
  /** Random, new each time (see newPasswordSalt in the CLI); hex digits. */
  salt: string
}

/** What `IDENTIFIED WITH sha256_hash BY '<sha256Hex>' SALT '<salt>'` carries. */
export type PasswordHash = { sha256Hex: string; salt: string }

const saltPattern = /^[0-9A-Fa-f]{16,64}$/

/**
 * ClickHouse's sha256_password: SHA-256 of the password followed by the salt, as hex
 * (SHA256PasswordAuthData::setPassword, `encodeSHA256(password + salt)`). Sending this with
 * `sha256_hash … SALT` instead of `sha256_password BY '<password>'` stores the same thing, while
 * the password itself never crosses the wire nor reaches the server's query log.
 */
export function sha256PasswordHash(input: PasswordInput): PasswordHash {
  if (input.password === '') throw new RangeError('invalid password: empty')
  if (!saltPattern.test(input.salt)) {
    throw new RangeError('invalid password salt: expected 16 to 64 hex digits')
  }
  const sha256Hex = createHash('sha256')
    .update(input.password + input.salt, 'utf8')
    .digest('hex')
  return { sha256Hex, salt: input.salt }
}
