import { AuditError } from '@audit-pipeline/errors'

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
 * At start-up it stops the service; on a reload the running table stays in force.
 */
export class RoutesConfigError extends AuditError<'CONFIG_INVALID'> {
  constructor(
    readonly file: string,
    readonly problems: readonly RoutesConfigProblem[],
  ) {
    super(
      'CONFIG_INVALID',
      `invalid routes config ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  ${formatProblem(problem)}`).join('\n'),
      false,
    )
  }
}

export function formatProblem(problem: RoutesConfigProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`
  return problem.path === ''
    ? `${where}: ${problem.message}`
    : `${where}: ${problem.path}: ${problem.message}`
}
