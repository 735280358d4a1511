/** One setting that is wrong: which one, and what was expected of it. */
export type ConfigProblem = { setting: string; message: string }

/** Thrown at start-up when settings are invalid; its message lists every bad setting at once. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor(
    readonly problems: readonly ConfigProblem[],
    source = 'environment',
  ) {
    super(
      `invalid configuration (${source}):\n` +
        problems.map((p) => `  - ${p.setting}: ${p.message}`).join('\n'),
    )
    this.name = 'ConfigError'
  }
}
