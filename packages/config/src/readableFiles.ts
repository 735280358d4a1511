import { accessSync, constants } from 'node:fs'
import { ConfigError } from './configError.js'

/**
 * Throws a ConfigError naming each setting whose file cannot be read (missing, a folder, no
 * permission), so a service started with one stops with the configuration exit code, as it does
 * for a file whose content is wrong. For files the service itself reads later (at start and on
 * reload); an unset setting is skipped.
 */
export function checkReadableFiles(files: Readonly<Record<string, string | undefined>>): void {
  const problems = Object.entries(files).flatMap(([setting, file]) => {
    if (file === undefined) return []
    try {
      accessSync(file, constants.R_OK)
      return []
    } catch (error) {
      return [{ setting, message: `cannot read ${file}: ${(error as Error).message}` }]
    }
  })
  if (problems.length > 0) throw new ConfigError(problems)
}
