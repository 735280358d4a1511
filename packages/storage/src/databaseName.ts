import { StorageError } from './storageError.js'

const plainName = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * The name as a quoted identifier. Only plain names are accepted, so that the same database is
 * reachable from any SQL someone writes by hand, unquoted.
 */
export function quoteDatabaseName(name: string): string {
  if (!plainName.test(name)) {
    throw new StorageError(
      'INVALID_NAME',
      `invalid database name ${JSON.stringify(name)}: expected letters, digits and _, not starting with a digit`,
      false,
    )
  }
  return `\`${name}\``
}
