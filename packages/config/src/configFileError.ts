import { AuditError } from '@audit-pipeline/errors'
import { ConfigError } from './configError.js'

/** One thing wrong in a config file: where, what. */
export type ConfigFileProblem = {
  readonly file: string
  /** 1-based; absent when the file's format gives no position (the API keys file's JSON). */
  readonly line?: number
  readonly column?: number
  /** Where in the document, e.g. `routes[2].match.category`; empty for the whole file. */
  readonly path: string
  readonly message: string
}

export type ConfigFileErrorInit<Problem extends ConfigFileProblem, Code extends string> = {
  /** From the thrower's closed list; `CONFIG_INVALID` but for packages with their own. */
  code: Code
  /** What the file is, for the message: `routes config`, `alert rules`. */
  what: string
  file: string
  problems: readonly Problem[]
  /** The list item a problem is about, e.g. `rule r-1`, written after its path. */
  itemOf?: (problem: Problem) => string | undefined
}

/**
 * Thrown when a config file (routes, destinations, rules, receivers, API keys …) cannot be used.
 * The message lists every problem, one per line, in the compiler's `file:line:column: path:
 * message` form, so editors and CI logs link to the line. At start-up every service exits with
 * `exitCodes.configInvalid` for it (@audit-pipeline/service-runtime); on a reload the running
 * configuration stays in force. Each file's reader subclasses it with its own problem type.
 */
export class ConfigFileError<
  Problem extends ConfigFileProblem = ConfigFileProblem,
  Code extends string = 'CONFIG_INVALID',
> extends AuditError<Code> {
  readonly what: string
  readonly file: string
  readonly problems: readonly Problem[]

  constructor({ code, what, file, problems, itemOf }: ConfigFileErrorInit<Problem, Code>) {
    super(
      code,
      `invalid ${what} ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  ${formatConfigFileProblem(problem, itemOf?.(problem))}`).join('\n'),
      false,
    )
    this.what = what
    this.file = file
    this.problems = problems
  }

  /** The first problem's line, where an editor should open the file. */
  get line(): number | undefined {
    return this.problems[0]?.line
  }

  get column(): number | undefined {
    return this.problems[0]?.column
  }
}

/** `file:line:column: path (item): message`; the parts a problem lacks are left out. */
export function formatConfigFileProblem(problem: ConfigFileProblem, item?: string): string {
  const where =
    problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`
  const about = [problem.path, item === undefined ? '' : `(${item})`].filter((part) => part !== '').join(' ')
  return about === '' ? `${where}: ${problem.message}` : `${where}: ${about}: ${problem.message}`
}

/**
 * Whether an error says the configuration is invalid, a setting (ConfigError) or a file
 * (ConfigFileError): what only an operator's fix can change, so restarting would not help.
 */
export function isConfigInvalid(
  error: unknown,
): error is ConfigError | ConfigFileError<ConfigFileProblem, string> {
  return error instanceof ConfigError || error instanceof ConfigFileError
}
