import { parsePath } from './jsonValuePath.js'
import { coversPath, parsePathPatterns } from './jsonValuePathPatterns.js'

/**
 * Whether a field path holds sensitive data: it is one of the sensitive paths or nested under one,
 * segment by segment (`customer` covers `customer.email`, `cards` covers `cards[0].number`,
 * `cards[*].number` covers `cards[2].number`; `customer` does not cover `customerId`). Throws
 * JsonValueError INVALID_PATH for a path that does not follow the grammar (jsonValuePath.ts):
 * a sensitive path that silently matched nothing would let its data through.
 */
export function isSensitivePath(path: string, sensitivePaths: readonly string[]): boolean {
  return coversPath(parsePathPatterns(sensitivePaths), parsePath(path))
}
