import { AuditError } from '@audit-pipeline/errors'

/** One thing wrong in a destinations file: where, in which destination, what. */
export type DestinationsProblem = {
  readonly file: string
  readonly line: number
  readonly column: number
  /** The destination's name when known, e.g. `siem`. */
  readonly destination?: string
  /** Where in the document, e.g. `destinations[1].auth.bearer_token_env`; empty for the whole file. */
  readonly path: string
  readonly message: string
}

/**
 * Thrown at start-up when the destinations file cannot be used. One problem per line in the
 * compiler's `file:line:column: path (destination …): message` form, so editors link to the line.
 */
export class DestinationsConfigError extends AuditError<'CONFIG_INVALID'> {
  constructor(
    readonly file: string,
    readonly problems: readonly DestinationsProblem[],
  ) {
    super(
      'CONFIG_INVALID',
      `invalid destinations file ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  ${formatProblem(problem)}`).join('\n'),
      false,
    )
  }
}

export function formatProblem(problem: DestinationsProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`
  const destination = problem.destination === undefined ? '' : ` (destination ${problem.destination})`
  return problem.path === ''
    ? `${where}:${destination} ${problem.message}`
    : `${where}: ${problem.path}${destination}: ${problem.message}`
}
