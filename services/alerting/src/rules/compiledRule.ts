import { createHash } from 'node:crypto'
import type { AnalystHideableField, Severity } from '@audit-pipeline/event-model'
import { compileExpression, ExpressionError, type CompiledExpression } from './celExpression.js'
import { revealedFields } from './revealedFields.js'
import type { RuleDefinition, RuleKind } from './rulesSchema.js'

/** A rule ready to evaluate: its definition with every expression compiled. */
export type CompiledRule = {
  readonly id: string
  readonly kind: RuleKind
  readonly severity: Severity
  readonly description: string
  readonly definition: RuleDefinition
  /**
   * Changes when the definition does: state kept under another fingerprint belongs to an older
   * version of the rule and is dropped, never applied to the new one.
   */
  readonly fingerprint: string
  readonly filter: CompiledExpression | undefined
  readonly groupBy: CompiledExpression | undefined
  /** `value` of new_value and cardinality rules. */
  readonly value: CompiledExpression | undefined
  /** `first` and `then` of sequence rules. */
  readonly first: CompiledExpression | undefined
  readonly then: CompiledExpression | undefined
  readonly reAlertAfterMs: number
  readonly readsEntity: boolean
  /** What analysts may be refused that the group key and figures are made from (revealedFields.ts). */
  readonly reveals: readonly AnalystHideableField[]
}

/** Where an expression failed to compile: the key in the rule, and why. */
export type ExpressionProblem = { key: string; message: string }

/**
 * Compiles a validated rule. Returns the problems instead when an expression does not compile, so
 * the caller can report all of them with their position in the file.
 */
export function compileRule(definition: RuleDefinition): CompiledRule | ExpressionProblem[] {
  const problems: ExpressionProblem[] = []
  const compile = (key: string, text: string | undefined, expects: 'bool' | 'string') => {
    if (text === undefined) return undefined
    try {
      return compileExpression(text, expects)
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error
      problems.push({ key, message: `CEL: ${error.message}` })
      return undefined
    }
  }
  const filter = compile('filter', definition.filter, 'bool')
  const groupBy = compile('groupBy', definition.groupBy, 'string')
  const value =
    definition.kind === 'new_value' || definition.kind === 'cardinality'
      ? compile('value', definition.value, 'string')
      : undefined
  const first = definition.kind === 'sequence' ? compile('first', definition.first, 'bool') : undefined
  const then = definition.kind === 'sequence' ? compile('then', definition.then, 'bool') : undefined
  if (problems.length > 0) return problems
  const expressions = [filter, groupBy, value, first, then]
  return {
    id: definition.id,
    kind: definition.kind,
    severity: definition.severity,
    description: definition.description ?? definition.id,
    definition,
    fingerprint: createHash('sha256').update(JSON.stringify(definition)).digest('hex').slice(0, 12),
    filter,
    groupBy,
    value,
    first,
    then,
    reAlertAfterMs: definition.reAlertAfter ?? defaultReAlertAfterMs(definition),
    readsEntity: expressions.some((expression) => expression?.readsEntity === true),
    // The group key is groupBy's value; figures hold value's (new_value, cardinality) and a change
    // rule's field, old and new.
    reveals: revealedFields([
      definition.groupBy,
      value?.text,
      definition.kind === 'change' ? definition.field : undefined,
    ]),
  }
}

/**
 * Windowed rules re-alert once a window has passed with the condition still holding; rules that
 * alert on one occurrence (a change, a sequence, a new value) alert on each.
 */
function defaultReAlertAfterMs(definition: RuleDefinition): number {
  switch (definition.kind) {
    case 'threshold':
    case 'spike':
    case 'flatline':
    case 'cardinality':
      return definition.window
    case 'new_value':
    case 'change':
    case 'sequence':
    case 'match':
      return 0
  }
}
