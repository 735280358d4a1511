import { ConfigFileError, formatConfigFileProblem } from '@audit-pipeline/config'

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
 * Thrown at start-up when the destinations file cannot be used (exit code 2, as every config-file
 * error). One problem per line in the compiler's `file:line:column: path (destination …): message`
 * form, so editors link to the line.
 */
export class DestinationsConfigError extends ConfigFileError<DestinationsProblem> {
  constructor(file: string, problems: readonly DestinationsProblem[]) {
    super({ code: 'CONFIG_INVALID', what: 'destinations file', file, problems, itemOf: destinationOf })
  }
}

export function formatProblem(problem: DestinationsProblem): string {
  return formatConfigFileProblem(problem, destinationOf(problem))
}

function destinationOf(problem: DestinationsProblem): string | undefined {
  return problem.destination === undefined ? undefined : `destination ${problem.destination}`
}
