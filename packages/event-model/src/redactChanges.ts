import type { FieldChange } from './auditEvent.js'
import { parsePath } from './jsonValuePath.js'
import { coversPath, parsePathPatterns, patternsWithin, type PathPatterns } from './jsonValuePathPatterns.js'
import { parseJsonText } from './jsonValueParse.js'
import { writeJsonText, type JsonTree } from './jsonValueTree.js'
import { replacementFor, type RedactionMethod } from './redactMethod.js'
import { redactTree } from './redactTree.js'

/**
 * A change list with sensitive values hashed or dropped (redactMethod.ts):
 *
 * - a change at or under a sensitive path gets both values replaced, whole;
 * - a change whose value is an object or array holding a sensitive path (`customer` added, with
 *   `customer.email` sensitive) gets that part of its values replaced;
 * - any other change is returned as it is.
 *
 * What stays visible: the path, value_type (the kind of value, not the value) and which of
 * old_value/new_value is null (the field appeared or disappeared). A change path spells out keys
 * under a sensitive path (`customer.email`); when such keys are themselves data, diff with
 * `wholeAt: sensitivePaths` so the change is reported at the sensitive path itself.
 */
export function redactChanges(
  changes: readonly FieldChange[],
  sensitivePaths: readonly string[],
  method: RedactionMethod,
): FieldChange[] {
  return redactChangeList(changes, parsePathPatterns(sensitivePaths), replacementFor(method))
}

/** redactChanges with its inputs prepared. */
export function redactChangeList(
  changes: readonly FieldChange[],
  patterns: PathPatterns,
  replace: (value: JsonTree) => string,
): FieldChange[] {
  return changes.map((change, index) => redactChange(change, index, patterns, replace))
}

function redactChange(
  change: FieldChange,
  index: number,
  patterns: PathPatterns,
  replace: (value: JsonTree) => string,
): FieldChange {
  const path = parsePath(change.path)
  const covered = coversPath(patterns, path)
  const within = covered ? [[]] : patternsWithin(patterns, path)
  if (within.length === 0) return change
  const redact = (text: string | null, field: string): string | null => {
    if (text === null) return null
    const value = parseJsonText(text, `changes[${index}].${field}`)
    return writeJsonText(redactTree(value, within, replace), { sortKeys: false })
  }
  return {
    ...change,
    old_value: redact(change.old_value, 'old_value'),
    new_value: redact(change.new_value, 'new_value'),
  }
}
