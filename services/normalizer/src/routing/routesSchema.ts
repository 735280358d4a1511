import { z } from 'zod'
import { eventField, matchableFieldNames } from './eventFields.js'
import { topicNameProblem } from './kafkaTopicName.js'
import { defaultRouteName, type ConditionSpec, type RouteOutcome, type RoutesSpec } from './routeTable.js'
import { compileValueMatcher, isGlob } from './valuePattern.js'

/**
 * The routes config, as zod checks it (routes.example.yaml documents it for people). Every
 * mapping is strict: an unknown key is an error, not a silently ignored typo. A custom issue with
 * `params.pointAt: 'key'` is about a key (an unknown field name), not the value under it.
 */

/** Messages say what was expected, and "missing" when the key is not there at all. */
const expected = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `missing: ${what}` : `expected ${what}`

function strictMapping<Shape extends z.ZodRawShape>(shape: Shape, what: string) {
  const keys = Object.keys(shape).join(', ')
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `the keys are: ${keys}` : expected(what)(issue)),
  })
}

const routeNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

const routeName = z
  .string({ error: expected('a route name') })
  .regex(
    routeNamePattern,
    // It is a metric label and appears in logs: keep it short and plain.
    'a route name is 1 to 64 of A-Z a-z 0-9 _ . -, starting with a letter or a digit',
  )
  .refine((name) => name !== defaultRouteName, {
    message: `'${defaultRouteName}' is the name of the default route; give this route another name`,
  })

const topicName = z.string({ error: expected('a Kafka topic name') }).superRefine((name, ctx) => {
  const problem = topicNameProblem(name)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

const topicList = z
  .array(topicName, { error: expected('a list of topics, e.g. [audit.normalized]') })
  .min(1, 'list at least one topic; to discard the events, use drop: { reason: … } instead')
  .superRefine((topics, ctx) => {
    topics.forEach((topic, index) => {
      if (topics.indexOf(topic) < index) {
        ctx.addIssue({ code: 'custom', path: [index], message: `'${topic}' is already in this list` })
      }
    })
  })

const maxDropReasonLength = 120

const drop = strictMapping(
  {
    // Counted in a metric with the reason as a label: a short fixed sentence, one per route.
    reason: z
      .string({ error: expected('a reason, e.g. reason: debug events are not kept') })
      .trim()
      .min(1, 'must not be empty: dropped events are counted by reason')
      .max(maxDropReasonLength, `at most ${maxDropReasonLength} characters (it is a metric label)`)
      .regex(/^[^\r\n]*$/, 'one line (it is a metric label)'),
  },
  'a mapping: { reason: … }',
)

const action = { to: topicList.optional(), drop: drop.optional() }

/** Exactly one of `to` and `drop`, as the route's outcome. */
function outcomeOf(value: { to?: string[] | undefined; drop?: { reason: string } | undefined }, ctx: Ctx) {
  if (value.to && value.drop) {
    ctx.addIssue({
      code: 'custom',
      path: ['drop'],
      params: { pointAt: 'key' },
      message: 'a route either sends (to) or drops (drop), not both',
    })
    return z.NEVER
  }
  if (value.to) return { kind: 'send', topics: value.to } satisfies RouteOutcome
  if (value.drop) return { kind: 'drop', reason: value.drop.reason } satisfies RouteOutcome
  ctx.addIssue({
    code: 'custom',
    message: 'missing: what the route does, to: [topics] or drop: { reason: … }',
  })
  return z.NEVER
}

type Ctx = z.RefinementCtx

const conditions = z
  .record(z.string(), z.unknown(), {
    error: expected('a mapping of field: value(s), e.g. { category: security, action.name: ticket.* }'),
  })
  .transform((written, ctx) => {
    if (Object.keys(written).length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'list at least one condition; the default route takes the events no route matches',
      })
    }
    return conditionSpecs(written, ctx)
  })

function conditionSpecs(written: Record<string, unknown>, ctx: Ctx): ConditionSpec[] {
  const specs: ConditionSpec[] = []
  const writtenByKey = new Map<string, string>()
  for (const [path, value] of Object.entries(written)) {
    const found = eventField(path)
    if (!found) {
      ctx.addIssue({
        code: 'custom',
        path: [path],
        params: { pointAt: 'key' },
        message: isMapping(value)
          ? `write a nested field as one dotted key: ${Object.keys(value)
              .map((key) => `${path}.${key}`)
              .join(', ')}`
          : `unknown field; match on one of: ${matchableFieldNames.join(', ')}`,
      })
      continue
    }
    const earlier = writtenByKey.get(found.key)
    if (earlier !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [path],
        params: { pointAt: 'key' },
        message: `the same field as '${earlier}': give all its values in one condition`,
      })
      continue
    }
    writtenByKey.set(found.key, path)
    const patterns = conditionPatterns(value, ctx, path, found.field)
    if (patterns) specs.push({ written: path, key: found.key, field: found.field, patterns })
  }
  return specs
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** A condition's value: one string or a list of strings, each checked against closed enums. */
function conditionPatterns(
  value: unknown,
  ctx: Ctx,
  path: string,
  field: ConditionSpec['field'],
): string[] | undefined {
  if (isMapping(value)) {
    ctx.addIssue({
      code: 'custom',
      path: [path],
      message:
        'expected a value or a list of values; write a nested field as one dotted key, e.g. action.kind',
    })
    return undefined
  }
  if (Array.isArray(value) && value.length === 0) {
    ctx.addIssue({ code: 'custom', path: [path], message: 'list at least one value' })
    return undefined
  }
  const items: readonly unknown[] = Array.isArray(value) ? value : [value]
  const patterns: string[] = []
  items.forEach((item, index) => {
    const problem = patternProblem(item, field)
    if (problem === undefined) patterns.push(item as string)
    else
      ctx.addIssue({ code: 'custom', path: Array.isArray(value) ? [path, index] : [path], message: problem })
  })
  return patterns.length === items.length ? patterns : undefined
}

function patternProblem(item: unknown, field: ConditionSpec['field']): string | undefined {
  if (item === null) {
    return 'expected a string or a list of strings (an event without a value matches no condition)'
  }
  if (typeof item === 'number' || typeof item === 'boolean') {
    return `expected a string or a list of strings (quote numbers and booleans: '${String(item)}')`
  }
  if (typeof item !== 'string') return 'expected a string: a list item cannot be a list or a mapping'
  if (item === '') return 'must not be empty'
  const allowed = field.kind === 'text' ? field.allowed : undefined
  if (!allowed) return undefined
  if (isGlob(item)) {
    const fits = compileValueMatcher([item])
    return allowed.some(fits) ? undefined : `'${item}' matches none of: ${allowed.join(', ')}`
  }
  return allowed.includes(item) ? undefined : `expected one of: ${allowed.join(', ')}`
}

const route = strictMapping(
  { name: routeName, match: conditions, ...action },
  'a route: a mapping with name, match, and to or drop',
).transform(({ name, match, ...rest }, ctx) => ({ name, conditions: match, outcome: outcomeOf(rest, ctx) }))

const defaultRoute = strictMapping(
  action,
  `the default route for events no route matches: to: [topics] or drop: { reason: … }`,
).transform((value, ctx) => outcomeOf(value, ctx))

export const routesDocument: z.ZodType<RoutesSpec> = strictMapping(
  {
    routes: z.array(route, { error: expected('a list of routes') }).default([]),
    default: defaultRoute,
  },
  'a mapping with routes: [...] and default: {...}',
)
