import { AuditError } from '@audit-pipeline/errors'

export const apiKeysErrorCodes = [
  /** The keys file cannot be read (missing, no permission): the message names the file. */
  'KEYS_FILE_UNREADABLE',
  /** The keys file is not valid: the message names the file, the key's position and the field. */
  'KEYS_FILE_INVALID',
  /** A new key was asked for with a value the file would not accept: the message names the field. */
  'KEY_REQUEST_INVALID',
  /** A new key's id is already in the file (revoked keys keep theirs). */
  'KEY_ID_TAKEN',
  /** No key in the file has the id given. */
  'KEY_NOT_FOUND',
] as const

export type ApiKeysErrorCode = (typeof apiKeysErrorCodes)[number]

/** Everything this package throws; none of it is retriable: the file or the request must change. */
export class ApiKeysError extends AuditError<ApiKeysErrorCode> {
  constructor(code: ApiKeysErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, false, options)
  }
}
