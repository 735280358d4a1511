import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import { logLevel } from 'kafkajs'
import { systemEntropy } from '@audit-pipeline/api-keys'
import { parseRetentionPolicy } from '@audit-pipeline/clickhouse-schema'
import { ConfigError } from '@audit-pipeline/config'
import { defaultDeadLetterTopic } from '@audit-pipeline/dead-letter'
import { createKafka } from '@audit-pipeline/kafka'
import { defaultProducerTopic } from '@audit-pipeline/producer'
import { openStorage } from '@audit-pipeline/storage'
import { readCheckpointTopic } from '@audit-pipeline/verification'
import { publicKeysCommand, signingKeyCommand } from './commands/checkpointKeys.js'
import { dlqListCommand, dlqReplayCommand } from './commands/dlq.js'
import { resolveKafkaEndpoint } from './commands/dlqEndpoints.js'
import {
  parseDlqListFlags,
  parseDlqReplayFlags,
  type DlqListFlags,
  type DlqReplayFlags,
} from './commands/dlqOptions.js'
import { alertsCommand } from './commands/alerts.js'
import { eraseCommand } from './commands/erase.js'
import { parseEraseFlags, type EraseFlags } from './commands/eraseOptions.js'
import { recordedFieldKeys } from './commands/fieldKeysOptions.js'
import { addClickhouseCommands } from './commands/clickhouse.js'
import { keysCreateCommand, keysListCommand, keysRevokeCommand } from './commands/keys.js'
import {
  keysListFormat,
  parseKeysCreateFlags,
  resolveKeysFile,
  type KeysCreateFlags,
} from './commands/keysOptions.js'
import { produceCommand } from './commands/produce.js'
import { offlineVerification, proofCommand } from './commands/proof.js'
import { querySearchCommand, queryStateCommand, queryTimelineCommand } from './commands/query.js'
import { createQueryApiClient, resolveQueryApiEndpoint } from './commands/queryApiClient.js'
import {
  filterQuery,
  isoTimeOption,
  outputFormat,
  positiveInteger,
  type QueryFilterFlags,
} from './commands/queryOptions.js'
import { sqlCommand } from './commands/sql.js'
import { tailCommand } from './commands/tail.js'
import { resolveTrailStorage } from './commands/trailStorage.js'
import { verifyCommand } from './commands/verify.js'
import { defaultCheckpointIntervalMs, parseVerifyFlags, type VerifyFlags } from './commands/verifyOptions.js'
import { progressDisplay } from './commands/verifyProgress.js'
import { schemasCheckCommand, schemasRegisterCommand } from './commands/schemas.js'
import { demoCommand } from './demo/runDemo.js'
import { resolveEndpoints } from './endpoints.js'
import {
  defaultStateDir,
  localPublicKeysFile,
  localQueryApiKeysFile,
  readRunningPipeline,
  readStackState,
} from '@audit-pipeline/stack-state'

const out = (line: string) => void process.stdout.write(`${line}\n`)
const err = (line: string) => void process.stderr.write(`${line}\n`)

/** Runs a command and turns its outcome into the exit code; errors print as one clear message. */
const run =
  <A extends unknown[]>(command: (...args: A) => Promise<number> | number) =>
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
    .option(
      '--keys-dir <path>',
      "the data keys folder sealed dead letters are opened with (default: FIELD_KEYS_DIR, or the running npm start's)",
    )
    .option(
      '--kek-file <path>',
      "the key-encryption key file (default: FIELD_KEYS_KEK_FILE, or the running npm start's)",
    )
/** Where `dlq` finds the key store when no flag names it: the environment, else the running npm start. */
const dlqKeysFrom = () => {
  const stateDir = defaultStateDir(process.env)
  return {
    env: process.env,
    running: { stateDir, fieldKeys: recordedFieldKeys(readRunningPipeline(stateDir)) },
    cwd: process.cwd(),
  }
}
withSelection(dlq.command('list'))
  .description(
    'list dead letters from the beginning of the topic, oldest first per partition; sealed ones opened with the key store when there is one',
  )
  .addOption(new Option('-n, --limit <n>', 'show at most this many').default('100'))
  .option('--json', 'one JSON object per line, key, value and headers in base64')
  .action(
    run(async (flags: DlqListFlags) =>
      dlqListCommand(
        parseDlqListFlags(flags, dlqKeysFrom()),
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
    're-send dead letters to their source topic (or --to) as they were, sealed ones opened with the key store (refused once erased); without a filter, the next replay starts after them',
  )
  .option('--to <topic>', 'send them all to this topic instead')
  .option('--dry-run', 'count what would be sent; send nothing')
  .option('--from-start', 'start at the beginning, not after the last remembered replay')
  .action(
    run(async (flags: DlqReplayFlags) =>
      dlqReplayCommand(
        parseDlqReplayFlags(flags, dlqKeysFrom()),
        resolveKafkaEndpoint(process.env, defaultStateDir(process.env)),
        { out, err },
      ),
    ),
  )

/** Flags every query command takes: where the API is, which key, how to print. */
type ApiFlags = { apiUrl?: string; apiKey?: string; format: string }
const withApi = (command: Command) =>
  command
    .option('--api-url <url>', 'the query API (default: AUDIT_API_URL, or http://127.0.0.1:8480)')
    .option('--api-key <key>', '<key id>.<secret> (default: AUDIT_API_KEY)')
    .addOption(new Option('--format <format>', 'table, json (one object per line) or csv').default('table'))
const withFilters = (command: Command) =>
  command
    .option('--tenant <tenant>', 'only this tenant')
    .option('--actor <id>', 'only this actor')
    .option('--action <name>', 'only this action, e.g. ticket.update')
    .option('--action-kind <kind>', 'create, update, delete, read or operation')
    .option('--category <category>', 'only this category, e.g. security')
    .option('--object-type <type>', 'only this object type')
    .option('--object-id <id>', 'only this object id')
    .option('--object-id2 <id>', 'only this second part of a composite object id')
    .option('--object-id3 <id>', 'only this third part of a composite object id')
    .option('--session-id <id>', "only this actor's session")
    .option('--ip <address>', 'only this actor IP address')
    .option('--request-id <id>', 'only this correlation request id')
    .option('--trace-id <id>', 'only this correlation trace id')
    .option('--source-service <name>', 'only events this service emitted')
    .option('--changed <field>', 'only events that changed this field, e.g. priority')
    .option('--from <value>', 'with --changed: from this value (text, or JSON such as 3)')
    .option('--to <value>', 'with --changed: to this value')
    .option('--outcome <status>', 'success, failure or denied')
    .option('--severity <severity>', 'only this severity')
    .option('--created-since <time>', 'only records created (their first create event) at or after this time')
    .option('--created-until <time>', 'only records created before this time')
    .option(
      '--updated-since <time>',
      'only records last updated (their newest update event) at or after this time',
    )
    .option('--updated-until <time>', 'only records last updated before this time')
    .option('--since <time>', 'occurred at or after this ISO-8601 date or time (with its zone)')
    .option('--until <time>', 'occurred before this ISO-8601 date or time (with its zone)')
const apiClient = (flags: ApiFlags) =>
  createQueryApiClient(
    resolveQueryApiEndpoint(flags, process.env, readRunningPipeline(defaultStateDir(process.env))?.queryApi),
  )
const queryIo = () => ({
  out,
  err,
  ...(process.stdout.columns !== undefined && { widthChars: process.stdout.columns }),
})

const query = program
  .command('query')
  .description('read the audit trail through the query API (services/query-api/README.md)')
withApi(query.command('timeline'))
  .description("a record's events, oldest first, with their changes")
  .argument('<type>', 'object type, e.g. ticket')
  .argument('<id>', 'object id')
  .option('--tenant <tenant>', "the record's tenant")
  .addOption(new Option('-n, --limit <n>', 'show at most this many').default('1000'))
  .action(
    run(async (type: string, id: string, flags: ApiFlags & { tenant?: string; limit: string }) =>
      queryTimelineCommand(
        {
          objectType: type,
          objectId: id,
          ...(flags.tenant !== undefined && { tenant: flags.tenant }),
          limit: positiveInteger('--limit', flags.limit),
          format: outputFormat(flags.format),
        },
        apiClient(flags),
        queryIo(),
      ),
    ),
  )
withApi(query.command('state'))
  .description("a record as of a time, rebuilt from its events: each field's value and its last change")
  .argument('<type>', 'object type, e.g. ticket')
  .argument('<id>', 'object id')
  .option(
    '--at <time>',
    'as of this ISO-8601 date or time (with its zone), its events included (default: now)',
  )
  .option('--tenant <tenant>', "the record's tenant")
  .option('--object-id2 <id>', 'the second part of a composite object id')
  .option('--object-id3 <id>', 'the third part of a composite object id')
  .action(
    run(
      async (
        type: string,
        id: string,
        flags: ApiFlags & { at?: string; tenant?: string; objectId2?: string; objectId3?: string },
      ) =>
        queryStateCommand(
          {
            objectType: type,
            objectId: id,
            filters: filterQuery({
              ...(flags.tenant !== undefined && { tenant: flags.tenant }),
              ...(flags.objectId2 !== undefined && { objectId2: flags.objectId2 }),
              ...(flags.objectId3 !== undefined && { objectId3: flags.objectId3 }),
            }),
            ...(flags.at !== undefined && { at: isoTimeOption('--at', flags.at) }),
            format: outputFormat(flags.format),
          },
          apiClient(flags),
          queryIo(),
        ),
    ),
  )
withFilters(withApi(query.command('search')))
  .description('events matching the filters, newest first')
  .addOption(new Option('-n, --limit <n>', 'show at most this many').default('100'))
  .action(
    run(async (flags: ApiFlags & QueryFilterFlags & { limit: string }) =>
      querySearchCommand(
        {
          filters: filterQuery(flags),
          limit: positiveInteger('--limit', flags.limit),
          format: outputFormat(flags.format),
        },
        apiClient(flags),
        queryIo(),
      ),
    ),
  )

withApi(program.command('sql'))
  .description('run one read-only SELECT over the audit tables (auditor keys only)')
  .argument('<sql>', 'the statement, e.g. "SELECT count() FROM audit_events_deduplicated"')
  .action(
    run(async (statement: string, flags: ApiFlags) =>
      sqlCommand({ sql: statement, format: outputFormat(flags.format) }, apiClient(flags), queryIo()),
    ),
  )

withApi(program.command('alerts'))
  .description('alerts raised and resolved, newest first')
  .option('--tenant <tenant>', 'only this tenant')
  .option('--severity <severity>', 'only this severity')
  .option('--rule <rule>', 'only this rule')
  .option('--since <time>', 'raised at or after this ISO-8601 date or time (with its zone)')
  .addOption(new Option('-n, --limit <n>', 'show at most this many (up to 1000)').default('100'))
  .action(
    run(async (flags: ApiFlags & QueryFilterFlags & { rule?: string; limit: string }) =>
      alertsCommand(
        {
          filters: filterQuery({
            ...(flags.tenant !== undefined && { tenant: flags.tenant }),
            ...(flags.severity !== undefined && { severity: flags.severity }),
            ...(flags.since !== undefined && { since: flags.since }),
          }),
          ...(flags.rule !== undefined && { rule: flags.rule }),
          limit: positiveInteger('--limit', flags.limit),
          format: outputFormat(flags.format),
        },
        apiClient(flags),
        queryIo(),
      ),
    ),
  )

withFilters(withApi(program.command('tail')))
  .description('follow new events live through the query API, with filters; Ctrl-C stops')
  .addOption(new Option('--interval-ms <ms>', 'how often to ask for new events').default('1000'))
  .addOption(
    new Option('--lookback-ms <ms>', 'how late an event may reach storage and still be shown').default(
      '60000',
    ),
  )
  .action(
    run(async (flags: ApiFlags & QueryFilterFlags & { intervalMs: string; lookbackMs: string }) => {
      if (flags.since !== undefined || flags.until !== undefined) {
        throw new Error('tail follows new events: --since and --until do not apply')
      }
      let stopped = false
      let wake: (() => void) | undefined
      process.once('SIGINT', () => {
        stopped = true
        wake?.()
      })
      return tailCommand(
        {
          filters: filterQuery(flags),
          format: outputFormat(flags.format),
          intervalMs: positiveInteger('--interval-ms', flags.intervalMs),
          lookbackMs: positiveInteger('--lookback-ms', flags.lookbackMs),
          rememberedIds: 100_000,
        },
        apiClient(flags),
        queryIo(),
        {
          now: Date.now,
          stopped: () => stopped,
          sleep: (ms) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, ms)
              wake = () => {
                clearTimeout(timer)
                resolve()
              }
            }),
        },
      )
    }),
  )

const keys = program
  .command('keys')
  .description(
    'query API keys: make, list and revoke them (services/query-api/README.md "Keys"; a running query API applies each change at once); and checkpoint signing keys: make one, publish its public key (packages/cli/README.md)',
  )
  // commander's own usage errors (a missing --role, an unknown option) exit 2, as the commands' do.
  .exitOverride((error) => {
    if (error.exitCode !== 0) process.exit(2)
  })
const withKeysFile = (command: Command) =>
  command.option(
    '--file <path>',
    "the keys file (default: QUERY_API_KEYS_FILE, or the local stack's .stack/query-api-keys.json)",
  )
const keysFile = (flags: { file?: string }) =>
  resolveKeysFile(flags, process.env, localQueryApiKeysFile(defaultStateDir(process.env)))
withKeysFile(keys.command('create'))
  .description('make a key and print its token, this once only (the file keeps its SHA-256)')
  .requiredOption(
    '--role <role>',
    'auditor (sees sensitive values, may use SQL) or analyst (sees them redacted)',
  )
  .addOption(
    new Option('--tenant <tenant>', 'the key reads only this tenant; repeat for more')
      .argParser((tenant: string, previous: string[]) => [...previous, tenant])
      .default([], 'every tenant'),
  )
  .option(
    '--expires <when>',
    'expire after 30d, 12h or 90m, or at an ISO-8601 time with its zone (default: never)',
  )
  .option(
    '--id <id>',
    'the key id, the part of the token before the dot (default: key-<8 random hex digits>)',
  )
  .action(
    run((flags: KeysCreateFlags & { file?: string }) => {
      const entropy = systemEntropy()
      return keysCreateCommand(
        parseKeysCreateFlags(flags, entropy.nowMs),
        keysFile(flags),
        queryIo(),
        entropy,
      )
    }),
  )
withKeysFile(keys.command('list'))
  .description('every key: id, role, tenants, created, expires, status (never a secret or hash)')
  .addOption(new Option('--format <format>', 'table, or json (one object per line)').default('table'))
  .action(
    run((flags: { file?: string; format: string }) =>
      keysListCommand({ format: keysListFormat(flags.format) }, keysFile(flags), queryIo(), Date.now()),
    ),
  )
withKeysFile(keys.command('revoke'))
  .description('refuse a key from now on; it stays listed as revoked, and its id is never reused')
  .argument('<id>', 'the key id, as `keys list` shows it')
  .action(
    run((id: string, flags: { file?: string }) =>
      keysRevokeCommand(id, keysFile(flags), queryIo(), Date.now()),
    ),
  )

// Checkpoint signing keys: what the sink signs with (SINK_SIGNING_KEY_FILE) and what verify trusts.
keys
  .command('signing-key')
  .description(
    'make an Ed25519 checkpoint signing key for the sink (SINK_SIGNING_KEY_FILE): PKCS#8 PEM, owner-only; never overwrites a file',
  )
  .requiredOption('--out <file>', 'where to write the key')
  .action(run((flags: { out: string }) => signingKeyCommand(flags, queryIo())))
keys
  .command('public')
  .description(
    "a signing key's public key as the published document verify trusts: printed, or added to --add-to keeping the keys it holds (rotation)",
  )
  .requiredOption('--signing-key <file>', 'the signing key (PKCS#8 PEM) whose public key to publish')
  .option('--add-to <file>', 'add it to this published public keys document (made if missing)')
  .action(run((flags: { signingKey: string; addTo?: string }) => publicKeysCommand(flags, queryIo())))

/** The sink's checkpoint interval as it reads it: when a checkpoint not made yet is due. */
const checkpointIntervalMs = () => {
  const set = process.env['SINK_CHECKPOINT_INTERVAL_MS']?.trim()
  if (set === undefined || set === '') return defaultCheckpointIntervalMs
  return positiveInteger('SINK_CHECKPOINT_INTERVAL_MS', set)
}
const trailStorage = () => {
  const stateDir = defaultStateDir(process.env)
  return resolveTrailStorage(process.env, readStackState(stateDir), stateDir)
}
// Usage errors (an unknown option, a missing argument) exit 2, as the commands' own do.
const usageExits2 = (error: { exitCode: number }) => {
  if (error.exitCode !== 0) process.exit(2)
}

program
  .command('verify')
  .description(
    "check the tamper-evident trail in ClickHouse (CLICKHOUSE_URL, or CLICKHOUSE_EMBEDDED_PATH and CLICKHOUSE_DATABASE, or the local stack's with `npm start` stopped): every stored event, chain entry and signed checkpoint; exit 0 intact, 1 findings, 2 when it cannot run (packages/cli/README.md)",
  )
  .option('--tenant <tenant>', 'only this tenant (default: every tenant)')
  .option(
    '--since <time>',
    'from the first checkpoint made at or after this ISO-8601 date or time (with its zone)',
  )
  .option('--until <time>', 'up to the last entry stored before this ISO-8601 date or time (with its zone)')
  .option(
    '--public-keys <file>',
    "the published public keys document to trust (default: the local stack's, .stack/keys/checkpoint-public-keys.json, when it exists)",
  )
  .option(
    '--checkpoints-topic <topic>',
    'also check that storage holds every checkpoint of this topic (default with KAFKA_BROKERS: SINK_CHECKPOINT_TOPIC, or audit.checkpoints)',
  )
  .option(
    '--checkpoint-grace-ms <ms>',
    'entries stored longer ago must be covered by a checkpoint (default: twice SINK_CHECKPOINT_INTERVAL_MS plus 60000)',
  )
  .option('--threads <n>', 'worker threads checking chains (default 0: none; ClickHouse does the digesting)')
  .option('--json', 'print the whole report as JSON')
  .exitOverride(usageExits2)
  .action(
    run(async (flags: VerifyFlags) => {
      const stateDir = defaultStateDir(process.env)
      const localKeys = localPublicKeysFile(stateDir)
      const options = parseVerifyFlags(flags, process.env, { path: localKeys, exists: existsSync(localKeys) })
      const target = trailStorage()
      const retention = parseRetentionPolicy(process.env)
      return verifyCommand(
        options,
        target,
        retention,
        {
          openStorage,
          readFile: (path) => readFileSync(path, 'utf8'),
          readCheckpoints: (topic) => {
            const endpoint = resolveKafkaEndpoint(process.env, stateDir)
            const kafka = createKafka(
              { ...endpoint.settings.kafka, brokers: endpoint.brokers },
              { logLevel: logLevel.NOTHING },
            )
            return readCheckpointTopic(kafka, topic)
          },
          nowMs: Date.now,
          ...(!options.json && { progress: progressDisplay(process.stderr) }),
        },
        queryIo(),
      )
    }),
  )

program
  .command('proof')
  .description(
    `print an event's inclusion proof: its chain entry, the audit path to a signed checkpoint and the event as stored; exit 1 when there is none (no such event, not covered by a checkpoint yet); verify it offline with \`${offlineVerification}\``,
  )
  .argument('<event_id>', 'the event id (a UUID)')
  .option('--tenant <tenant>', "the event's tenant (needed only when the id is stored for more than one)")
  .option('--out <file>', 'write the proof to this file instead of printing it')
  .addHelpText(
    'after',
    `\nAnyone can verify a proof offline with the published public keys (one file, Node's built-ins only):\n  ${offlineVerification}`,
  )
  .exitOverride(usageExits2)
  .action(
    run(async (eventId: string, flags: { tenant?: string; out?: string }) =>
      proofCommand(
        {
          eventId,
          ...(flags.tenant !== undefined && { tenant: flags.tenant }),
          ...(flags.out !== undefined && { out: flags.out }),
          checkpointIntervalMs: checkpointIntervalMs(),
        },
        trailStorage(),
        { openStorage, writeFile: (path, text) => writeFileSync(path, text) },
        queryIo(),
      ),
    ),
  )

program
  .command('erase')
  .description(
    'erase a data subject (packages/field-encryption): destroy their data keys, so every value sealed for them reads [erased] wherever it was copied; record the erasure as a security event of the tenant (naming the subject by its digest only); remove from the input topics the records the normalizer has handled (plaintext from producers that cannot seal); exit 0 done, 1 failed or partly done (the output says what), 2 usage or settings errors',
  )
  .requiredOption('--tenant <tenant>', "the subject's tenant")
  .requiredOption(
    '--subject <subject>',
    'the data subject as the sealing rule names it: an actor id, <object type>/<object id>, or an attribute value',
  )
  .option('--reason <text>', 'why, recorded with the erasure (a request reference, say)')
  .option(
    '--actor <id>',
    'who asks for the erasure, recorded as its actor (default: AUDIT_ACTOR, or your login name)',
  )
  .option('--keys-dir <path>', "the data keys folder (default: FIELD_KEYS_DIR, or the running npm start's)")
  .option(
    '--kek-file <path>',
    "the key-encryption key file (default: FIELD_KEYS_KEK_FILE, or the running npm start's)",
  )
  .addOption(
    new Option('--input-topic <topic>', 'an input topic of the normalizer; repeat for more')
      .argParser((topic: string, previous: string[]) => [...previous, topic])
      .default([], 'NORMALIZER_INPUT_TOPICS, or audit.events'),
  )
  .option(
    '--normalizer-group <group>',
    "the normalizer's consumer group, whose committed offsets say what it has handled (default: NORMALIZER_GROUP_ID, or audit-normalizer)",
  )
  .option('--events-topic <topic>', `where the erasure event is sent (default: ${defaultProducerTopic})`)
  .option('--json', 'print what was done as one JSON object')
  .exitOverride(usageExits2)
  .action(
    run(async (flags: EraseFlags) => {
      const stateDir = defaultStateDir(process.env)
      const options = parseEraseFlags(flags, process.env, {
        stateDir,
        fieldKeys: recordedFieldKeys(readRunningPipeline(stateDir)),
      })
      return eraseCommand(options, resolveEndpoints(process.env, stateDir), { out, err })
    }),
  )

program
  .command('demo')
  .description(
    "run the scripted scenario (a ticket's life, a deleted assignment, a delete burst, malformed events) on the running pipeline (`npm start`; `npm run demo` starts one if none runs); prints the timeline, alerts and dead letters and checks each",
  )
  .action(run(async () => demoCommand(process.env, queryIo())))

addClickhouseCommands(program, run, { out, err })

await program.parseAsync()
