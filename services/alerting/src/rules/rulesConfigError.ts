import { ConfigFileError, formatConfigFileProblem } from '@audit-pipeline/config'

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
 * Thrown when a rules (or receivers) file cannot be used, listing every problem as
 * `file:line:column: path (rule id): message`. At start-up it stops the service (exit code 2, as
 * every config-file error); on a SIGHUP reload the rules in force stay.
 */
export class RulesConfigError extends ConfigFileError<RulesConfigProblem> {
  constructor(
    file: string,
    problems: readonly RulesConfigProblem[],
    override readonly what: ConfigFileKind = 'alert rules',
  ) {
    super({
      code: 'CONFIG_INVALID',
      what,
      file,
      problems,
      itemOf: (problem) => itemOf(problem, itemLabels[what]),
    })
  }
}

/** The two YAML files the service reads, and what their list items are called in messages. */
export type ConfigFileKind = 'alert rules' | 'webhook receivers'
const itemLabels = { 'alert rules': 'rule', 'webhook receivers': 'receiver' } as const

export function formatRulesProblem(problem: RulesConfigProblem, itemLabel = 'rule'): string {
  return formatConfigFileProblem(problem, itemOf(problem, itemLabel))
}

/** `rule r-1` or `receiver ops`; a problem about the whole file (no path) names none. */
function itemOf(problem: RulesConfigProblem, itemLabel: string): string | undefined {
  return problem.rule === undefined || problem.path === '' ? undefined : `${itemLabel} ${problem.rule}`
}
