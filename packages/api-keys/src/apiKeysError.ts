import { ConfigFileError, type ConfigFileProblem } from '@audit-pipeline/config'
import { AuditError } from '@audit-pipeline/errors'

export const apiKeysErrorCodes = [
  /** The keys file cannot be read (missing, no permission): the message names the file. */
  'KEYS_FILE_UNREADABLE',
  /** The keys file is not valid (thrown as KeysFileError): each problem names the file, the key's position and the field. */
  'KEYS_FILE_INVALID',
  /** A new key was asked for with a value the file would not accept: the message names the field. */
  'KEY_REQUEST_INVALID',
  /** A new key's id is already in the file (revoked keys keep theirs). */
  'KEY_ID_TAKEN',
  /** No key in the file has the id given. */
  'KEY_NOT_FOUND',
] as const

export type ApiKeysErrorCode = (typeof apiKeysErrorCodes)[number]

/**
 * Everything this package throws but an invalid keys file (KeysFileError, a config-file error like
 * every service's); none of it is retriable: the file or the request must change.
 */
export class ApiKeysError extends AuditError<ApiKeysErrorCode> {
  constructor(code: ApiKeysErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, false, options)
  }
}

/**
 * The keys file is not valid: every problem, one per line, as `file: keys.0.role: message`. A
 * ConfigFileError, so a service reading the file at start-up exits with the config exit code.
 * (JSON parsing gives no line and column, so problems name the key's position in the list.)
 */
export class KeysFileError extends ConfigFileError<ConfigFileProblem, 'KEYS_FILE_INVALID'> {
  constructor(file: string, problems: readonly ConfigFileProblem[]) {
    super({ code: 'KEYS_FILE_INVALID', what: 'API keys file', file, problems })
  }
}
