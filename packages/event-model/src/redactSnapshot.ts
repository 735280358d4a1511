import { parseJsonText } from './jsonValueParse.js'
import { parsePathPatterns, type PathPatterns } from './jsonValuePathPatterns.js'
import { writeJsonText, type JsonTree } from './jsonValueTree.js'
import { replacementFor, type RedactionMethod } from './redactMethod.js'
import { redactTree } from './redactTree.js'

/**
 * A snapshot (`before` or `after`, JSON text) with the values at the sensitive paths hashed or
 * dropped (redactMethod.ts). Everything else keeps its value, its key order and its number text
 * digit for digit (the text is read without JSON.parse's rounding); whitespace is removed. Throws
 * JsonValueError for text that is not JSON or a sensitive path that is not a path.
 */
export function redactSnapshot(
  jsonText: string,
  sensitivePaths: readonly string[],
  method: RedactionMethod,
): string {
  return redactSnapshotText(jsonText, parsePathPatterns(sensitivePaths), replacementFor(method), 'snapshot')
}

/** redactSnapshot with its inputs prepared; `where` names the text in errors (`before`). */
export function redactSnapshotText(
  jsonText: string,
  patterns: PathPatterns,
  replace: (value: JsonTree) => string,
  where: string,
): string {
  const tree = parseJsonText(jsonText, where)
  return writeJsonText(redactTree(tree, patterns, replace), { sortKeys: false })
}
