import { AuditError } from '@audit-pipeline/errors'

/** One setting that is wrong: which one, and what was expected of it. */
export type ConfigProblem = { setting: string; message: string }

/** Thrown at start-up when settings are invalid; its message lists every bad setting at once. */
export class ConfigError extends AuditError<'CONFIG_INVALID'> {
  constructor(
    readonly problems: readonly ConfigProblem[],
    source = 'environment',
  ) {
    super(
      'CONFIG_INVALID',
      `invalid configuration (${source}):\n` +
        problems.map((p) => `  - ${p.setting}: ${p.message}`).join('\n'),
      false,
    )
  }
}
