import { Command, Option } from 'commander'
import { ConfigError } from '@audit-pipeline/config'
import { defaultDeadLetterTopic } from '@audit-pipeline/dead-letter'
import { defaultProducerTopic } from '@audit-pipeline/producer'
import { dlqListCommand, dlqReplayCommand } from './commands/dlq.js'
import { resolveKafkaEndpoint } from './commands/dlqEndpoints.js'
import {
  parseDlqListFlags,
  parseDlqReplayFlags,
  type DlqListFlags,
  type DlqReplayFlags,
} from './commands/dlqOptions.js'
import { produceCommand } from './commands/produce.js'
import { schemasCheckCommand, schemasRegisterCommand } from './commands/schemas.js'
import { resolveEndpoints } from './endpoints.js'
import { defaultStateDir } from '@audit-pipeline/local-stack'

const out = (line: string) => void process.stdout.write(`${line}\n`)
const err = (line: string) => void process.stderr.write(`${line}\n`)

/** Runs a command and turns its outcome into the exit code; errors print as one clear message. */
const run =
  <A extends unknown[]>(command: (...args: A) => Promise<number>) =>
  async (...args: A) => {
    try {
      process.exitCode = await command(...args)
    } catch (error) {
      const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error)
      err(`audit-pipeline: ${message}`)
      process.exitCode = 2
    }
  }

const program = new Command('audit-pipeline')
  .description(
    'The audit-pipeline command line. Connection settings come from the environment (README: "Using existing infrastructure") or the running local stack.',
  )
  .showHelpAfterError()

program
  .command('produce')
  .description('send audit events, one per line in the documented JSON form (schemas/README.md)')
  .requiredOption('-f, --file <path>', 'NDJSON file to read; - reads standard input')
  .addOption(new Option('-t, --topic <topic>', 'topic to send to').default(defaultProducerTopic))
  .action(
    run(async (options: { file: string; topic: string }) =>
      produceCommand(options, resolveEndpoints(process.env, defaultStateDir(process.env)), {
        stdin: process.stdin,
        out,
        err,
      }),
    ),
  )

const schemas = program.command('schemas').description('the Avro contract: check compatibility, register')
schemas
  .command('check')
  .description('check the working tree schemas against their released history, and a registry when given')
  .option('-r, --registry <url>', 'also check against this registry (default: SCHEMA_REGISTRY_URL when set)')
  .action(
    run(async (options: { registry?: string }) =>
      schemasCheckCommand(options.registry ?? process.env['SCHEMA_REGISTRY_URL'], out),
    ),
  )
schemas
  .command('register')
  .description('register every released schema version, in order, at BACKWARD_TRANSITIVE')
  .option('-r, --registry <url>', 'registry (default: SCHEMA_REGISTRY_URL, or the local stack)')
  .action(
    run(async (options: { registry?: string }) =>
      schemasRegisterCommand(
        // Registering needs only the registry, not Kafka.
        options.registry ??
          process.env['SCHEMA_REGISTRY_URL'] ??
          resolveEndpoints(process.env, defaultStateDir(process.env)).registryUrl,
        out,
      ),
    ),
  )

const dlq = program
  .command('dlq')
  .description('inspect and re-inject dead letters (packages/dead-letter/README.md)')
/** The options `dlq list` and `dlq replay` share: which topic, which dead letters. */
const withSelection = (command: Command) =>
  command
    .addOption(new Option('-t, --topic <topic>', 'dead-letter topic').default(defaultDeadLetterTopic))
    .option('--class <code>', 'only this error class, e.g. EVENT_INVALID')
    .option('--source-topic <topic>', 'only dead letters from this topic')
    .option('--service <name>', 'only dead letters written by this service, e.g. normalizer')
    .option('--since <time>', 'only dead-lettered at or after this ISO-8601 date or time (with its zone)')
withSelection(dlq.command('list'))
  .description('list dead letters from the beginning of the topic, oldest first per partition')
  .addOption(new Option('-n, --limit <n>', 'show at most this many').default('100'))
  .option('--json', 'one JSON object per line, key, value and headers in base64')
  .action(
    run(async (flags: DlqListFlags) =>
      dlqListCommand(
        parseDlqListFlags(flags),
        resolveKafkaEndpoint(process.env, defaultStateDir(process.env)),
        {
          out,
          err,
          ...(process.stdout.columns !== undefined && { widthChars: process.stdout.columns }),
        },
      ),
    ),
  )
withSelection(dlq.command('replay'))
  .description(
    're-send dead letters to their source topic (or --to) as they were; without a filter, the next replay starts after them',
  )
  .option('--to <topic>', 'send them all to this topic instead')
  .option('--dry-run', 'count what would be sent; send nothing')
  .option('--from-start', 'start at the beginning, not after the last remembered replay')
  .action(
    run(async (flags: DlqReplayFlags) =>
      dlqReplayCommand(
        parseDlqReplayFlags(flags),
        resolveKafkaEndpoint(process.env, defaultStateDir(process.env)),
        { out, err },
      ),
    ),
  )

await program.parseAsync()
