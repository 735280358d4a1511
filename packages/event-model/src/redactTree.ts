import { patternsWithin, type PathPatterns } from './jsonValuePathPatterns.js'
import type { JsonTree } from './jsonValueTree.js'

/**
 * A copy of `tree` in which every value a pattern covers is replaced, whole, by the string
 * `replace` gives for it: keys and items inside a sensitive value go with it. Patterns that lead
 * nowhere in this tree (a missing key, a leaf where they expect a container) change nothing.
 */
export function redactTree(
  tree: JsonTree,
  patterns: PathPatterns,
  replace: (value: JsonTree) => string,
): JsonTree {
  if (patterns.length === 0) return tree
  if (patterns.some((pattern) => pattern.length === 0)) return replace(tree)
  if (Array.isArray(tree)) {
    return tree.map((item, index) => redactTree(item, patternsWithin(patterns, [index]), replace))
  }
  if (tree instanceof Map) {
    return new Map(
      [...tree].map(([key, member]) => [key, redactTree(member, patternsWithin(patterns, [key]), replace)]),
    )
  }
  return tree
}
