import { Environment } from '@marcbachmann/cel-js'
import type { AuditEvent } from '@audit-pipeline/event-model'

/** Whether a destination wants an event. Throws FilterEvaluationError when it cannot tell. */
export type EventFilter = (event: AuditEvent) => boolean

/** The expression did not give true or false for an event (a missing key, a type mismatch). */
export class FilterEvaluationError extends Error {
  override readonly name = 'FilterEvaluationError'
}

/**
 * The one variable a filter sees: the event in its JSON form (schemas/README.md), e.g.
 * `event.category == "security" && event.severity in ["error", "critical"]`. CEL, the language
 * the alerting rules use too, so the product has one filter language; it cannot loop, call out or
 * allocate without bound, which is what an expression written in a config file should not do.
 */
const celEnvironment = new Environment({ limits: { maxAstNodes: 2_000, maxDepth: 50 } }).registerVariable(
  'event',
  'map',
)

/**
 * Compiles a CEL filter; throws an Error whose message says what is wrong and where (the
 * parser's caret under the expression) when it does not parse, refers to anything but `event`,
 * or cannot give a bool.
 */
export function compileFilter(source: string): EventFilter {
  const program = celEnvironment.parse(source)
  const checked = program.check()
  if (!checked.valid) throw checked.error ?? new Error('the expression does not type-check')
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw new Error(`the expression gives ${checked.type}, not bool (true: send the event, false: skip it)`)
  }
  return (event) => {
    let result: unknown
    try {
      result = program({ event: plainValue(event) })
    } catch (error) {
      throw new FilterEvaluationError(firstLine(error), { cause: error })
    }
    if (typeof result !== 'boolean') {
      throw new FilterEvaluationError(`the filter gave ${typeof result}, not true or false`)
    }
    return result
  }
}

/**
 * The value with every record as a plain object. Decoded events are instances of the Avro
 * schema's record classes, which CEL refuses ("Unsupported type: AuditEvent"); it reads plain
 * objects, arrays and scalars.
 */
function plainValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(plainValue)
  const plain: Record<string, unknown> = {}
  for (const key of Object.keys(value)) plain[key] = plainValue((value as Record<string, unknown>)[key])
  return plain
}

/** Every event. */
export const everyEvent: EventFilter = () => true

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}
