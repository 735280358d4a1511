import { z } from 'zod'
import { severities } from '@audit-pipeline/event-model'
import { parseDurationMs } from './duration.js'

/** A duration: `30s`, `5m`, `24h`, `7d`, `500ms`, or whole ms. */
const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  const ms = parseDurationMs(value)
  if (ms === undefined) {
    context.addIssue({
      code: 'custom',
      message: 'expected a duration above 0: 500ms, 30s, 5m, 24h, 7d, or whole milliseconds',
    })
    return z.NEVER
  }
  return ms
})

/** A CEL expression (https://cel.dev), compiled after the schema check. */
const expression = z.string().trim().min(1, 'expected a CEL expression')

const count = (what: string) =>
  z.number().int(`expected a whole number of ${what}`).positive(`expected at least 1 ${what}`)

/** Keys every rule has, whatever its kind. */
const common = {
  /** Names the rule in alerts, metrics and errors; unique in the file. */
  id: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_.-]{0,99}$/,
      'expected a rule id of a-z 0-9 _ . - (up to 100, e.g. mass-delete)',
    ),
  severity: z.enum(severities, { error: `expected one of: ${severities.join(', ')}` }),
  description: z.string().optional(),
  /** Which events the rule looks at; default: every event. */
  filter: expression.optional(),
  /** What alerts are counted and sent per (a string expression); default: one group per tenant. */
  groupBy: expression.optional(),
  /** Count events of all tenants together instead of per tenant. Default false. */
  acrossTenants: z.boolean().default(false),
  /** While the condition holds, another alert for the same group after this long. */
  reAlertAfter: duration.optional(),
}

const threshold = z.strictObject({
  ...common,
  kind: z.literal('threshold'),
  window: duration,
  atLeast: count('events'),
})

const spike = z.strictObject({
  ...common,
  kind: z.literal('spike'),
  window: duration,
  /** The period before the window whose rate is the baseline. */
  reference: duration,
  /** The window's rate must reach the baseline's times this. */
  factor: z.number().positive('expected a factor above 0, e.g. 3'),
  /** Fewer events than this in the window never make a spike. Default 10. */
  minCount: count('events').default(10),
})

const flatline = z.strictObject({
  ...common,
  kind: z.literal('flatline'),
  window: duration,
  fewerThan: count('events'),
})

const newValue = z.strictObject({
  ...common,
  kind: z.literal('new_value'),
  /** The value whose first sighting per group raises an alert (a string expression). */
  value: expression,
  /** Values remembered per group (least recently seen forgotten first). Default 1000. */
  maxValuesPerGroup: count('values').default(1_000),
  /** Alert on a group's very first value too. Default false: the first value is learned. */
  alertOnFirstValue: z.boolean().default(false),
})

const cardinality = z.strictObject({
  ...common,
  kind: z.literal('cardinality'),
  value: expression,
  window: duration,
  moreThan: count('distinct values'),
  /** Distinct values remembered per group and window. Default 10000. */
  maxDistinct: count('values').default(10_000),
})

const fieldValues = z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).min(1)

const change = z.strictObject({
  ...common,
  kind: z.literal('change'),
  /** The changed field's path, as in the event's `changes` (e.g. `priority`). */
  field: z.string().min(1),
  /** Values it moved from; default: any. */
  from: fieldValues.optional(),
  /** Values it moved to; default: any. */
  to: fieldValues.optional(),
})

/** Every event that passes the filter: for conditions on `entity`, the object's last known state. */
const match = z.strictObject({
  ...common,
  kind: z.literal('match'),
})

const sequence = z.strictObject({
  ...common,
  kind: z.literal('sequence'),
  /** Event A. */
  first: expression,
  /** Event B, for the same group; may read `first` (event A's fields). */
  then: expression,
  within: duration,
})

export const ruleSchema = z.discriminatedUnion(
  'kind',
  [threshold, spike, flatline, newValue, cardinality, change, sequence, match],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'expected kind: threshold, spike, flatline, new_value, cardinality, change, sequence or match'
        : undefined,
  },
)

export const rulesDocument = z.strictObject({ rules: z.array(ruleSchema) })

export type RuleDefinition = z.infer<typeof ruleSchema>
export type RuleKind = RuleDefinition['kind']
export const ruleKinds = [
  'threshold',
  'spike',
  'flatline',
  'new_value',
  'cardinality',
  'change',
  'sequence',
  'match',
] as const satisfies readonly RuleKind[]
