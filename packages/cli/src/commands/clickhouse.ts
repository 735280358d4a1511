import type { Command } from 'commander'
import { defaultQuotaLimits, defaultReaderLimits } from '@audit-pipeline/storage'
import { accessApplyCommand, defaultAccessApplyDeps, type AccessApplyIo } from './clickhouseAccess.js'
import { parseAccessApplyFlags, type AccessApplyFlags } from './clickhouseAccessOptions.js'

/** main.ts's wrapper that turns a command's outcome into the exit code. */
type Run = <A extends unknown[]>(command: (...args: A) => Promise<number>) => (...args: A) => Promise<void>

/** `audit-pipeline clickhouse …`: the ClickHouse server's own settings for the pipeline. */
export function addClickhouseCommands(program: Command, run: Run, io: AccessApplyIo): void {
  const access = program
    .command('clickhouse')
    .description('the ClickHouse server (CLICKHOUSE_URL): access control')
    .command('access')
    .description(
      'least privilege: users for the sink and the query API, reader roles, row policies per tenant, a capped read-only profile, quotas (services/clickhouse-sink/docs/access-control.md)',
    )
  access
    .command('apply')
    .description(
      'create or update them, as CLICKHOUSE_ADMIN_USERNAME; idempotent: run it again after each new tenant. Passwords of the users it creates: CLICKHOUSE_SINK_PASSWORD, CLICKHOUSE_QUERY_API_PASSWORD',
    )
    .option('--dry-run', 'print the statements (password hashes hidden) and run nothing')
    .option('--database <name>', 'the audit database (default: CLICKHOUSE_DATABASE, or audit)')
    .option(
      '--tenant <tenant>',
      'give this tenant a role and row policies; repeat for more (besides the keys file)',
      (tenant: string, previous: string[]) => [...previous, tenant],
      [] as string[],
    )
    .option(
      '--keys-file <path>',
      "the query API's keys file: every tenant a key is restricted to gets a role (default: QUERY_API_KEYS_FILE)",
    )
    .option(
      '--max-memory-bytes <n>',
      `memory of one reader query (default ${defaultReaderLimits.maxMemoryBytes})`,
    )
    .option(
      '--max-execution-seconds <n>',
      `time of one reader query (default ${defaultReaderLimits.maxExecutionSeconds})`,
    )
    .option(
      '--max-rows-to-read <n>',
      `rows one reader query reads (default ${defaultReaderLimits.maxRowsToRead})`,
    )
    .option('--max-result-rows <n>', `rows of one answer (default ${defaultReaderLimits.maxResultRows})`)
    .option('--max-result-bytes <n>', `bytes of one answer (default ${defaultReaderLimits.maxResultBytes})`)
    .option(
      '--quota-queries-per-hour <n>',
      `queries per API key or analyst per hour (default ${defaultQuotaLimits.queriesPerHour})`,
    )
    .option(
      '--quota-read-rows-per-hour <n>',
      `rows read per API key or analyst per hour (default ${defaultQuotaLimits.readRowsPerHour})`,
    )
    .option(
      '--quota-execution-seconds-per-hour <n>',
      `query seconds per API key or analyst per hour (default ${defaultQuotaLimits.executionSecondsPerHour})`,
    )
    .action(
      run(async (flags: AccessApplyFlags) =>
        accessApplyCommand(
          parseAccessApplyFlags(flags, process.env),
          process.env,
          io,
          defaultAccessApplyDeps,
        ),
      ),
    )
}
