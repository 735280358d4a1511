import { AuditError } from '@audit-pipeline/errors'

/** One thing wrong in a rules file: where (1-based line and column), which rule, what. */
export type RulesConfigProblem = {
  readonly file: string
  readonly line: number
  readonly column: number
  /** Where in the document, e.g. `rules[2].filter`; empty for the whole file. */
  readonly path: string
  /** The rule's id (or receiver's name) when it has one. */
  readonly rule?: string
  readonly message: string
}

/**
 * Thrown when a rules file cannot be used, listing every problem as `file:line:column: path
 * (rule id): message`. At start-up it stops the service; on a SIGHUP reload the rules in force stay.
 */
export class RulesConfigError extends AuditError<'CONFIG_INVALID'> {
  constructor(
    readonly file: string,
    readonly problems: readonly RulesConfigProblem[],
    readonly what: ConfigFileKind = 'alert rules',
  ) {
    super(
      'CONFIG_INVALID',
      `invalid ${what} ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  ${formatRulesProblem(problem, itemLabels[what])}`).join('\n'),
      false,
    )
  }
}

/** The two YAML files the service reads, and what their list items are called in messages. */
export type ConfigFileKind = 'alert rules' | 'webhook receivers'
const itemLabels = { 'alert rules': 'rule', 'webhook receivers': 'receiver' } as const

export function formatRulesProblem(problem: RulesConfigProblem, itemLabel = 'rule'): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`
  const rule = problem.rule === undefined ? '' : ` (${itemLabel} ${problem.rule})`
  return problem.path === ''
    ? `${where}: ${problem.message}`
    : `${where}: ${problem.path}${rule}: ${problem.message}`
}
