import { formatDocumentPath, positionOf, type DocumentPath } from '@audit-pipeline/config'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { LineCounter, parseDocument } from 'yaml'
import { z } from 'zod'

/** The levels each dimension takes: 1 keeps least, 3 keeps everything. */
export const loggingLevelValues = [1, 2, 3] as const

/**
 * How much of *when* is kept. 3: every event with its exact times. 2: every event, its times cut
 * to the UTC day. 1: every event leaves with its exact times, marked (the `audit-temporal-level`
 * header) for storage that keeps only the latest one per record: the sink's part.
 */
export type TemporalLevel = (typeof loggingLevelValues)[number]

/**
 * How much of *what* is kept. 3: the changes, old and new values, and snapshots. 2: the paths
 * changed and their value types, no value, no snapshot. 1: who did which action on which object,
 * with which outcome: no change, no snapshot, no path.
 */
export type InformativeLevel = (typeof loggingLevelValues)[number]

export type LoggingLevels = { readonly temporal: TemporalLevel; readonly informative: InformativeLevel }

/** Everything kept: every event's levels without a levels file, and a default's levels left out. */
export const fullLoggingLevels: LoggingLevels = Object.freeze({ temporal: 3, informative: 3 })

/** One rule: which events it takes (every matcher given must hold) and the levels it sets. */
export type LevelsRule = {
  readonly tenant?: string
  readonly objectType?: string
  /** The event's `source.service`. */
  readonly source?: string
  readonly levels: LoggingLevels
}

/** Per tenant, object type or source, the levels events keep (applyLoggingLevels.ts). */
export type LevelsPolicy = {
  /** For events no rule takes. */
  readonly default: LoggingLevels
  /** Tried in order; the first that matches takes the event. */
  readonly rules: readonly LevelsRule[]
}

/** Without a levels file: 3/3 for every event, as before levels existed. */
export const defaultLevelsPolicy: LevelsPolicy = Object.freeze({ default: fullLoggingLevels, rules: [] })

const level = z.literal(loggingLevelValues, { error: 'expected 1, 2 or 3' }).optional()
const matcher = z.string({ error: 'expected text' }).min(1, 'must not be empty').optional()

const defaultKeys = ['temporal', 'informative'] as const
const ruleKeys = ['tenant', 'object_type', 'source', ...defaultKeys] as const
const fileKeys = ['default', 'rules'] as const

const ruleSchema = z
  .strictObject({
    tenant: matcher,
    object_type: matcher,
    source: matcher,
    temporal: level,
    informative: level,
  })
  .superRefine((rule, ctx) => {
    if (rule.tenant === undefined && rule.object_type === undefined && rule.source === undefined) {
      // It would take every event and hide every rule after it: that is what `default` is for.
      ctx.addIssue({
        code: 'custom',
        message:
          'a rule needs at least one of tenant, object_type, source (default is for every other event)',
      })
    }
    if (rule.temporal === undefined && rule.informative === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a rule needs temporal, informative or both' })
    }
  })

const policySchema = z.strictObject({
  default: z.strictObject({ temporal: level, informative: level }).optional(),
  rules: z.array(ruleSchema, { error: 'expected a list of rules' }).default([]),
})

/**
 * Reads a levels file (YAML or JSON):
 *
 * ```yaml
 * default: { temporal: 3, informative: 3 }
 * rules:            # first match wins
 *   - { tenant: acme, object_type: ticket, temporal: 2, informative: 2 }
 *   - { source: legacy-crm, informative: 1 }
 * ```
 *
 * A rule matches when every matcher it gives holds (`tenant`, `object_type`, `source`: the
 * event's `source.service`, exact text); a level it leaves out is the default's. An empty file
 * is the default policy. Throws an Error naming the file, the line and column, and the entry
 * (`levels.yaml:4:37: rules[1].temporal: expected 1, 2 or 3`).
 */
export function parseLevelsPolicy(text: string, file: string): LevelsPolicy {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const [syntax] = doc.errors
  if (syntax !== undefined) {
    const { line, col } = lineCounter.linePos(syntax.pos[0])
    throw new Error(`${file}:${line}:${col}: not valid YAML or JSON: ${syntax.message}`, { cause: syntax })
  }
  const parsed = policySchema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {})
  if (!parsed.success) {
    // The first problem, where it is: the file is short, and the next run shows the next one.
    const issue = parsed.error.issues[0]
    let path: DocumentPath = issue?.path ?? []
    let message = issue?.message ?? 'invalid'
    if (issue?.code === 'unrecognized_keys') {
      path = [...path, issue.keys[0] ?? '']
      const known = path.length === 1 ? fileKeys : path[0] === 'default' ? defaultKeys : ruleKeys
      message = `unknown key; expected one of: ${known.join(', ')}`
    }
    const at = positionOf(doc, lineCounter, path, issue?.code === 'unrecognized_keys' ? 'key' : 'value')
    throw new Error(`${file}:${at.line}:${at.column}: ${formatDocumentPath(path) || '(file)'}: ${message}`)
  }
  const { data } = parsed
  const fallback: LoggingLevels = Object.freeze({
    temporal: data.default?.temporal ?? fullLoggingLevels.temporal,
    informative: data.default?.informative ?? fullLoggingLevels.informative,
  })
  const rules = data.rules.map((rule): LevelsRule =>
    Object.freeze({
      ...(rule.tenant !== undefined && { tenant: rule.tenant }),
      ...(rule.object_type !== undefined && { objectType: rule.object_type }),
      ...(rule.source !== undefined && { source: rule.source }),
      // A level the rule leaves out is the default's: `{ source: legacy-crm, informative: 1 }`
      // changes what is kept, not when.
      levels: Object.freeze({
        temporal: rule.temporal ?? fallback.temporal,
        informative: rule.informative ?? fallback.informative,
      }),
    }),
  )
  return Object.freeze({ default: fallback, rules: Object.freeze(rules) })
}

/**
 * The levels of an event: those of the first rule whose matchers all hold, else the default.
 * Reads only the tenant, the object type and the source service, which neither the levels nor
 * redaction change, so the reduced event gets the same answer as the event it came from.
 */
export function levelsOf(
  policy: LevelsPolicy,
  event: Pick<AuditEvent, 'tenant' | 'object' | 'source'>,
): LoggingLevels {
  for (const rule of policy.rules) {
    if (
      (rule.tenant === undefined || rule.tenant === event.tenant) &&
      (rule.objectType === undefined || rule.objectType === event.object.type) &&
      (rule.source === undefined || rule.source === event.source.service)
    ) {
      return rule.levels
    }
  }
  return policy.default
}

/** Whether the levels keep less than everything. */
export function isReduced(levels: LoggingLevels): boolean {
  return levels.temporal < 3 || levels.informative < 3
}
