import { Environment, ParseError } from '@marcbachmann/cel-js'
import { equalityGuards, type EqualityGuard } from './equalityGuards.js'

/** The variables every rule expression may read. */
export const expressionVariables = ['event', 'changed', 'entity', 'first'] as const

const environment = new Environment({ unlistedVariablesAreDyn: false })
for (const name of expressionVariables) environment.registerVariable(name, 'map')

export type CompiledExpression = {
  readonly text: string
  /** Whether the text reads `entity` (the service keeps entity state only when some rule does). */
  readonly readsEntity: boolean
  /** Equalities the expression cannot be true without (equalityGuards.ts), for indexing rules. */
  readonly guards: readonly EqualityGuard[]
  /** Throws cel-js's EvaluationError when the event lacks a field the expression reads. */
  evaluate(context: Record<string, unknown>): unknown
}

/** A CEL expression that does not compile: the message includes the caret under the spot. */
export class ExpressionError extends Error {
  override name = 'ExpressionError'
}

/**
 * Compiles a CEL expression (https://cel.dev: no loops, no I/O, no `eval`), type-checked against
 * the declared variables, expecting the given result type.
 */
export function compileExpression(text: string, expects: 'bool' | 'string'): CompiledExpression {
  let program: ReturnType<Environment['parse']>
  try {
    program = environment.parse(text)
  } catch (error) {
    if (error instanceof ParseError) throw new ExpressionError(withColumn(error.summary, error.range))
    throw error
  }
  const checked = program.check()
  if (!checked.valid) {
    throw new ExpressionError(
      withColumn(checked.error?.summary ?? 'does not type-check', checked.error?.range),
    )
  }
  // `dyn` (a field of a map) is only known when evaluated.
  if (checked.type !== expects && checked.type !== 'dyn') {
    throw new ExpressionError(`expected a ${expects} expression, this one gives ${checked.type}`)
  }
  return {
    text,
    readsEntity: /\bentity\b/.test(text),
    guards: expects === 'bool' ? equalityGuards(program.ast) : [],
    evaluate: (context) => program(context) as unknown,
  }
}

function withColumn(summary: string, range: { start: number } | undefined): string {
  return range === undefined ? summary : `${summary} (at character ${range.start + 1} of the expression)`
}
