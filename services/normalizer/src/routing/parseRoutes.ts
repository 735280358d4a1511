import { LineCounter, parseDocument, visit, type Document } from 'yaml'
import type { z } from 'zod'
import {
  formatDocumentPath,
  positionAtOffset,
  positionOf,
  type DocumentPath,
  type PointAt,
} from '@audit-pipeline/config'
import { checkRoutes } from './routeChecks.js'
import { RoutesConfigError, type RoutesConfigProblem } from './routesConfigError.js'
import { routesDocument } from './routesSchema.js'
import { compileRouteTable, type RouteTable } from './routeTable.js'

export const routesFormats = ['yaml', 'json'] as const
export type RoutesFormat = (typeof routesFormats)[number]

export type RoutesSource = {
  /** Named in every error message; its extension picks the format when `format` is not given. */
  file: string
  /** Default: `json` for a `.json` file, else `yaml`. */
  format?: RoutesFormat
}

/** Anchors and aliases are allowed (a topic list written once); this bounds their expansion. */
const maxAliasCount = 100

/**
 * Reads a routes config (routes.example.yaml describes it) into a compiled RouteTable, or throws
 * a RoutesConfigError listing every problem with its line and column. Pure: the caller reads the
 * file, so a SIGHUP reload can parse the new text and swap tables only when this succeeds.
 *
 * JSON goes through the YAML parser too (with its JSON schema, so `yes` or an unquoted word is
 * refused): one parser gives JSON files line numbers and refuses duplicate keys in both formats.
 */
export function parseRoutes(text: string, source: RoutesSource): RouteTable {
  const format = source.format ?? (source.file.toLowerCase().endsWith('.json') ? 'json' : 'yaml')
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    schema: format === 'json' ? 'json' : 'core',
    uniqueKeys: true,
  })
  const problems = new ProblemList(source.file, doc, lineCounter)

  const syntaxLabel = format === 'json' ? 'JSON' : 'YAML'
  for (const error of [...doc.errors, ...doc.warnings]) {
    problems.addAtOffset(error.pos[0], `${syntaxLabel}: ${error.message}`)
  }
  visit(doc, {
    Alias(_, alias) {
      if (!alias.resolve(doc)) {
        problems.addAtOffset(
          alias.range?.[0] ?? 0,
          `${syntaxLabel}: no anchor &${alias.source} before *${alias.source}`,
        )
      }
    },
  })
  // A broken document is not worth validating: its shape would only add noise.
  if (problems.any()) throw problems.toError()

  let data: unknown
  try {
    data = doc.toJS({ maxAliasCount })
  } catch (error) {
    // Too many aliases (a "billion laughs" document): say so rather than exhaust memory.
    problems.addAtOffset(0, `${syntaxLabel}: ${error instanceof Error ? error.message : String(error)}`)
    throw problems.toError()
  }

  const parsed = routesDocument.safeParse(data)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.addIssue(issue)
    throw problems.toError()
  }

  const lineOf = (path: DocumentPath) => positionOf(doc, lineCounter, path).line
  for (const problem of checkRoutes(parsed.data, lineOf)) {
    problems.add(problem.path, problem.pointAt, problem.message)
  }
  if (problems.any()) throw problems.toError()

  return compileRouteTable(parsed.data, source.file)
}

/** Problems collected with their position, thrown together in document order. */
class ProblemList {
  private readonly problems: (RoutesConfigProblem & { offset: number })[] = []

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  add(path: DocumentPath, pointAt: PointAt, message: string): void {
    const position = positionOf(this.doc, this.lineCounter, path, pointAt)
    this.problems.push({ file: this.file, ...position, path: formatDocumentPath(path), message })
  }

  addAtOffset(offset: number, message: string): void {
    this.problems.push({ file: this.file, ...positionAtOffset(this.lineCounter, offset), path: '', message })
  }

  addIssue(issue: z.core.$ZodIssue): void {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) this.add([...issue.path, key], 'key', `unknown key; ${issue.message}`)
      return
    }
    const pointAt = issue.code === 'custom' && issue.params?.['pointAt'] === 'key' ? 'key' : 'value'
    this.add(issue.path, pointAt, issue.message)
  }

  any(): boolean {
    return this.problems.length > 0
  }

  toError(): RoutesConfigError {
    const inOrder = [...this.problems].sort((a, b) => a.offset - b.offset)
    return new RoutesConfigError(
      this.file,
      inOrder.map(({ offset: _, ...problem }) => problem),
    )
  }
}
