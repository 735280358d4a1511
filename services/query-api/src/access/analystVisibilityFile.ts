import { readFileSync } from 'node:fs'
import { LineCounter, parseDocument, type Document } from 'yaml'
import { z } from 'zod'
import { tenantNamePattern } from '@audit-pipeline/api-keys'
import {
  ConfigFileError,
  formatDocumentPath,
  positionAtOffset,
  positionOf,
  type ConfigFileProblem,
  type DocumentPath,
} from '@audit-pipeline/config'
import {
  fieldVisibilities,
  hideableFields,
  defaultTenantVisibility,
  type AnalystVisibility,
  type HideableField,
  type TenantVisibility,
} from './analystVisibility.js'

/**
 * The analyst visibility file (QUERY_API_ANALYST_VISIBILITY_FILE) cannot be used: every problem,
 * one per line, as `file:line:column: path: message`. A ConfigFileError, so at start-up the API
 * exits with the config exit code; on a reload the visibility in force stays.
 */
export class AnalystVisibilityFileError extends ConfigFileError {
  constructor(file: string, problems: readonly ConfigFileProblem[]) {
    super({ code: 'CONFIG_INVALID', what: 'analyst visibility file', file, problems })
  }
}

const fieldsRule = `a mapping of ${hideableFields.join(', ')} to ${fieldVisibilities.join(' or ')}`

const visibility = z.enum(fieldVisibilities, {
  error: `expected one of: ${fieldVisibilities.join(', ')}`,
})

const fieldsSchema = z.strictObject(
  Object.fromEntries(hideableFields.map((field) => [field, visibility.optional()])) as Record<
    HideableField,
    z.ZodOptional<typeof visibility>
  >,
  { error: `expected ${fieldsRule}` },
)

const fileSchema = z.strictObject(
  {
    default: fieldsSchema.optional(),
    tenants: z
      .record(
        z.string().regex(tenantNamePattern, `expected a tenant name matching ${tenantNamePattern.source}`),
        fieldsSchema,
        { error: `expected a mapping of tenant names to ${fieldsRule}` },
      )
      .optional(),
  },
  {
    error:
      'expected a mapping with `default` and/or `tenants` (services/query-api/README.md, "Analyst visibility")',
  },
)

/** Anchors and aliases are YAML's; this bounds their expansion ("billion laughs"). */
const maxAliasCount = 100

/**
 * Parses the analyst visibility file, YAML or JSON (JSON is YAML):
 *
 * ```yaml
 * default: { ip: hidden, session_id: hidden, user_agent: visible, attributes: visible }
 * tenants:
 *   acme: { ip: visible }   # the fields a tenant leaves out are the default's
 * ```
 *
 * Fields `default` leaves out keep the built-in default (IP and session id hidden, user agent and
 * attributes visible). Unknown keys, values other than `visible` / `hidden` and tenant names the
 * keys file would refuse are errors. Throws AnalystVisibilityFileError listing every problem
 * with its line, column and entry. Pure: the caller reads the file.
 */
export function parseAnalystVisibility(text: string, file: string): AnalystVisibility {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const problems: (ConfigFileProblem & { offset: number })[] = []
  const fail = () =>
    new AnalystVisibilityFileError(
      file,
      problems.sort((a, b) => a.offset - b.offset).map(({ offset: _, ...problem }) => problem),
    )
  const atOffset = (offset: number, message: string) =>
    problems.push({ file, ...positionAtOffset(lineCounter, offset), path: '', message })
  for (const error of [...doc.errors, ...doc.warnings]) atOffset(error.pos[0], `YAML: ${error.message}`)
  if (problems.length > 0) throw fail()
  let data: unknown
  try {
    data = doc.toJS({ maxAliasCount })
  } catch (error) {
    atOffset(0, `YAML: ${error instanceof Error ? error.message : String(error)}`)
    throw fail()
  }
  const parsed = fileSchema.safeParse(data)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...problemsOf(issue, doc, lineCounter, file))
    throw fail()
  }
  const fallback: TenantVisibility = { ...defaultTenantVisibility, ...definedOf(parsed.data.default) }
  return {
    default: fallback,
    tenants: new Map(
      Object.entries(parsed.data.tenants ?? {}).map(([tenant, fields]) => [
        tenant,
        { ...fallback, ...definedOf(fields) },
      ]),
    ),
  }
}

/** Reads and parses the file; throws naming the file when it cannot be read. */
export function readAnalystVisibilityFile(file: string): AnalystVisibility {
  return parseAnalystVisibility(readFileSync(file, 'utf8'), file)
}

type Fields = Partial<Record<HideableField, (typeof fieldVisibilities)[number] | undefined>>

function definedOf(fields: Fields | undefined): Partial<TenantVisibility> {
  return Object.fromEntries(Object.entries(fields ?? {}).filter(([, value]) => value !== undefined))
}

/** A zod issue at its place in the file: an unknown key points at the key, anything else at the value. */
function problemsOf(
  issue: z.core.$ZodIssue,
  doc: Document,
  lineCounter: LineCounter,
  file: string,
): (ConfigFileProblem & { offset: number })[] {
  const at = (path: DocumentPath, pointAt: 'key' | 'value', message: string) => ({
    file,
    ...positionOf(doc, lineCounter, path, pointAt),
    path: formatDocumentPath(path),
    message,
  })
  if (issue.code === 'unrecognized_keys') {
    const expected = issue.path.length === 0 ? 'default, tenants' : hideableFields.join(', ')
    return issue.keys.map((key) =>
      at([...issue.path, key], 'key', `unknown key; expected one of: ${expected}`),
    )
  }
  if (issue.code === 'invalid_key') return [at(issue.path, 'key', issue.issues[0]?.message ?? issue.message)]
  return [at(issue.path, 'value', issue.message)]
}
