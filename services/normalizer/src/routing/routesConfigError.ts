import { ConfigFileError, formatConfigFileProblem } from '@audit-pipeline/config'

/** One thing wrong in a routes config: where (1-based line and column), what, and why. */
export type RoutesConfigProblem = {
  readonly file: string
  readonly line: number
  readonly column: number
  /** Where in the document, e.g. `routes[2].match.category`; empty for the whole file. */
  readonly path: string
  readonly message: string
}

/**
 * Thrown when a routes config cannot be used. The message lists every problem, one per line, in
 * the compiler's `file:line:column: path: message` form, so editors and CI logs link to the line.
 * At start-up it stops the service (exit code 2, as every config-file error); on a reload the
 * running table stays in force.
 */
export class RoutesConfigError extends ConfigFileError<RoutesConfigProblem> {
  constructor(file: string, problems: readonly RoutesConfigProblem[]) {
    super({ code: 'CONFIG_INVALID', what: 'routes config', file, problems })
  }
}

export function formatProblem(problem: RoutesConfigProblem): string {
  return formatConfigFileProblem(problem)
}
