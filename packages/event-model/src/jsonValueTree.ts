import { compareKeys } from './jsonValuePath.js'

/**
 * JSON as data, kept without loss between reading and writing it again. Numbers keep their source
 * text: JSON.parse turns 12345678901234567891 into 12345678901234567000, which in an audit trail
 * is another account number. Objects are Maps, so a key named `__proto__` is a key like any other
 * and key order survives.
 */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonObjectTree = Map<string, JsonTree>
export type JsonTree = null | boolean | string | JsonNumber | JsonTree[] | JsonObjectTree

/**
 * The JSON text of a tree, without whitespace. With `sortKeys` (by UTF-16 code units) the text is
 * canonical: equal values written from differently ordered objects give equal text, which is what
 * diffs and hashes compare.
 */
export function writeJsonText(tree: JsonTree, options: { sortKeys: boolean }): string {
  if (tree === null || typeof tree === 'boolean') return String(tree)
  if (typeof tree === 'string') return JSON.stringify(tree)
  if (tree instanceof JsonNumber) return tree.text
  if (Array.isArray(tree)) return `[${tree.map((item) => writeJsonText(item, options)).join(',')}]`
  const keys = [...tree.keys()]
  if (options.sortKeys) keys.sort(compareKeys)
  const members = keys.map((key) => `${JSON.stringify(key)}:${writeJsonText(tree.get(key)!, options)}`)
  return `{${members.join(',')}}`
}
