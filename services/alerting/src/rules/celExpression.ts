import { Environment, ParseError } from '@marcbachmann/cel-js'
import { equalityGuards, type EqualityGuard } from './equalityGuards.js'
import { compilePattern, PatternError, regexMatches } from './regexPattern.js'

/** The variables every rule expression may read. */
export const expressionVariables = ['event', 'changed', 'entity', 'first'] as const

/**
 * cel-js runs `matches()` on JavaScript's RegExp, which backtracks (a pattern such as `^(a+)+$`
 * held the event loop for seconds), and it refuses a second overload of a signature it has. So
 * RE2's `matches()` is registered under a name of its own, and each `x.matches(p)` call of a rule
 * expression is pointed at it after parsing, before type-checking: rules keep writing `matches()`,
 * and it runs on RE2 (regexPattern.ts), as the CEL specification says it should.
 */
const re2Matches = 'matches_re2'

const environment = new Environment({ unlistedVariablesAreDyn: false })
for (const name of expressionVariables) environment.registerVariable(name, 'map')
environment.registerFunction(`string.${re2Matches}(string): bool`, regexMatches)

export type CompiledExpression = {
  readonly text: string
  /** Whether the text reads `entity` (the service keeps entity state only when some rule does). */
  readonly readsEntity: boolean
  /** Equalities the expression cannot be true without (equalityGuards.ts), for indexing rules. */
  readonly guards: readonly EqualityGuard[]
  /**
   * Throws cel-js's EvaluationError when the event lacks a field the expression reads, and
   * PatternError when `matches()` is given a pattern from the event that RE2 refuses.
   */
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
  useRe2ForMatches(program.ast)
  const checked = program.check()
  if (!checked.valid) {
    const summary = checked.error?.summary.replaceAll(re2Matches, 'matches') ?? 'does not type-check'
    throw new ExpressionError(withColumn(summary, checked.error?.range))
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

type AstNode = { op: string; args: unknown; start: number; meta?: Record<string, unknown> }

const isNode = (value: unknown): value is AstNode =>
  typeof value === 'object' && value !== null && typeof (value as { op?: unknown }).op === 'string'

/**
 * Points every `x.matches(p)` of the parsed expression at RE2's function, and compiles each
 * pattern written as a literal now, so that a pattern RE2 refuses (a backreference, lookaround)
 * fails the rules file with its position instead of every event. Walks the whole tree, macro
 * expansions (`exists`, `all`, …) included. The tree is as deep as the expression's nesting, which
 * the parser bounds (250 levels).
 */
function useRe2ForMatches(ast: unknown): void {
  const seen = new Set<unknown>()
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return
    seen.add(value)
    if (Array.isArray(value)) {
      for (const item of value) visit(item)
      return
    }
    if (!isNode(value)) {
      // A macro's expansion (a comprehension) keeps its parts in a plain object.
      for (const item of Object.values(value)) visit(item)
      return
    }
    if (value.op === 'value') return
    if (value.op === 'rcall' && Array.isArray(value.args) && value.args[0] === 'matches') {
      value.args[0] = re2Matches
      const [pattern] = (value.args[2] ?? []) as unknown[]
      if (isNode(pattern) && pattern.op === 'value' && typeof pattern.args === 'string') {
        try {
          compilePattern(pattern.args, { pin: true })
        } catch (error) {
          if (!(error instanceof PatternError)) throw error
          throw new ExpressionError(withColumn(`matches(): ${error.message}`, { start: pattern.start }))
        }
      }
    }
    visit(value.args)
    visit(value.meta?.['alternate'])
    visit(value.meta?.['macro'])
  }
  visit(ast)
}

function withColumn(summary: string, range: { start: number } | undefined): string {
  return range === undefined ? summary : `${summary} (at character ${range.start + 1} of the expression)`
}
