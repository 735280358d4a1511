/** Where a value sits in a YAML (or JSON) config file, for errors that name file:line:col. */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml'

/** A path into the parsed config, as zod reports it: keys and list indexes. */
export type DocumentPath = readonly PropertyKey[]

/** Point at the value at a path (a bad value), or at its key (an unknown or repeated key). */
export type PointAt = 'value' | 'key'

export type Position = { line: number; column: number; offset: number }

/**
 * Where a path lies in the YAML (or JSON) text: the value's first character, or its key's. A
 * path that goes further than the document (a missing key) points at the deepest node that
 * exists, the mapping the key is missing from.
 */
export function positionOf(
  doc: Document,
  lineCounter: LineCounter,
  path: DocumentPath,
  pointAt: PointAt = 'value',
): Position {
  let node: unknown = doc.contents
  let offset = startOf(node) ?? 0
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc)
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment))
      if (!pair) break
      const keyStart = startOf(pair.key) ?? offset
      if (index === path.length - 1 && pointAt === 'key') {
        offset = keyStart
        break
      }
      node = pair.value
      // `name:` with nothing after it: point at the key rather than the end of the line.
      offset = isScalar(node) && node.source === '' ? keyStart : (startOf(node) ?? keyStart)
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment]
      if (node === undefined) break
      offset = startOf(node) ?? offset
    } else {
      break
    }
  }
  return positionAtOffset(lineCounter, offset)
}

export function positionAtOffset(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset)
  return { line, column: col, offset }
}

function startOf(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0]
}

/** `routes[2].match["attributes.channel"]`: the path as people read it, unambiguous. */
export function formatDocumentPath(path: DocumentPath): string {
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`
      const key = String(segment)
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return index === 0 ? key : `.${key}`
      return `[${JSON.stringify(key)}]`
    })
    .join('')
}
