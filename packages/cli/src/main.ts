import { Command, Option } from 'commander'
import { ConfigError } from '@audit-pipeline/config'
import { defaultProducerTopic } from '@audit-pipeline/producer'
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

await program.parseAsync()
