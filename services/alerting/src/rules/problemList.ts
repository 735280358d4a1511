import { LineCounter, parseDocument, type Document } from 'yaml'
import type { z } from 'zod'
import {
  formatDocumentPath,
  positionAtOffset,
  positionOf,
  type DocumentPath,
  type PointAt,
} from '@audit-pipeline/config'
import { RulesConfigError, type ConfigFileKind, type RulesConfigProblem } from './rulesConfigError.js'

/** Anchors and aliases are allowed; this bounds their expansion ("billion laughs"). */
const maxAliasCount = 100

/**
 * Parses a YAML file into plain data, or throws every syntax problem with its position. The
 * returned list collects the caller's own problems against the same document.
 */
export function readYamlDocument(
  text: string,
  file: string,
  what: ConfigFileKind = 'alert rules',
): { data: unknown; problems: ProblemList } {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const problems = new ProblemList(file, doc, lineCounter, what)
  for (const error of [...doc.errors, ...doc.warnings]) {
    problems.addAtOffset(error.pos[0], `YAML: ${error.message}`)
  }
  if (problems.any()) throw problems.toError()
  try {
    return { data: doc.toJS({ maxAliasCount }) as unknown, problems }
  } catch (error) {
    problems.addAtOffset(0, `YAML: ${error instanceof Error ? error.message : String(error)}`)
    throw problems.toError()
  }
}

/** Problems collected with their position, thrown together in document order. */
export class ProblemList {
  private readonly problems: (RulesConfigProblem & { offset: number })[] = []

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly what: ConfigFileKind,
  ) {}

  add(path: DocumentPath, pointAt: PointAt, message: string, rule?: string): void {
    const position = positionOf(this.doc, this.lineCounter, path, pointAt)
    this.problems.push({
      file: this.file,
      ...position,
      path: formatDocumentPath(path),
      ...(rule !== undefined && { rule }),
      message,
    })
  }

  addAtOffset(offset: number, message: string): void {
    this.problems.push({ file: this.file, ...positionAtOffset(this.lineCounter, offset), path: '', message })
  }

  addIssue(issue: z.core.$ZodIssue, rule: string | undefined): void {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        this.add([...issue.path, key], 'key', `unknown key; ${issue.message}`, rule)
      return
    }
    this.add(issue.path, 'value', issue.message, rule)
  }

  any(): boolean {
    return this.problems.length > 0
  }

  toError(): RulesConfigError {
    const inOrder = [...this.problems].sort((a, b) => a.offset - b.offset)
    return new RulesConfigError(
      this.file,
      inOrder.map(({ offset: _, ...problem }) => problem),
      this.what,
    )
  }
}

/** The `nameKey` of the list item a path points into (`rules[2]` → its id), for messages. */
export function itemNameAt(
  data: unknown,
  path: readonly PropertyKey[],
  listKey: string,
  nameKey: string,
): string | undefined {
  if (path[0] !== listKey || typeof path[1] !== 'number') return undefined
  const items = (data as Record<string, unknown> | null)?.[listKey]
  if (!Array.isArray(items)) return undefined
  const name = (items[path[1]] as Record<string, unknown> | undefined)?.[nameKey]
  return typeof name === 'string' ? name : undefined
}
