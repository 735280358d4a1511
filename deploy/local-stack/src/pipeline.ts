import { existsSync, mkdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import {
  localQueryApiKeysFile,
  pipelineEndpointsFile,
  removePipelineEndpoints,
  removeSupervisionState,
  stackStateFile,
  writePipelineEndpoints,
  type PipelineEndpoints,
  writeSupervisionState,
} from '@audit-pipeline/stack-state'
import { checkStackClickHouse } from './clickhouseCheck.js'
import { applyLocalClickHouseAccess } from './localClickHouseAccess.js'
import { freePort } from './freePort.js'
import { localWebhookSecretVariable, writeLocalReceiverFiles } from './localReceivers.js'
import { writeLocalQueryApiKeys } from './localQueryApi.js'
import { writeLocalFieldKeys } from './localFieldKeys.js'
import {
  describeServices,
  startServices,
  stopServices,
  type LocalSetup,
  type RunningService,
} from './pipelineServices.js'
import { stopProcess } from './processes.js'
import { startStack, type StackHandle } from './stack.js'
import { relaunchStackProcess } from './stackProcessControl.js'
import { restartPolicyFrom, type KafkaClusterSize } from './stackSettings.js'
import { describeStack } from './statusTable.js'
import { createSupervisor, type Supervisor } from './supervisor.js'
import { watchProcesses } from './watchdog.js'
import { newWebhookSecret } from './webhookInbox.js'
import { webhookInboxProcess } from './webhookInboxProcess.js'
import { writeLocalSigningKey } from './localSigningKey.js'

/** What `npm start` writes to pipeline.json: its endpoints, always with its key store. */
type LocalEndpoints = PipelineEndpoints & Required<Pick<PipelineEndpoints, 'fieldKeys'>>

export type RunningPipeline = {
  stack: StackHandle
  services: RunningService[]
  endpoints: LocalEndpoints
  /** Restarts whatever this call started when it exits (supervisor.ts). */
  supervisor: Supervisor
  /** The status table: endpoints, topics, services, files. */
  describe(cwd?: string): string
  /**
   * Restarts stop first, then the services (they finish their batch and commit while the broker is
   * up), then the inbox and the stack, each by the PID it has now.
   */
  stop(): Promise<void>
}

/** The name the webhook inbox goes by in the supervisor's lines and `audit-stack status`. */
export const webhookInboxName = 'webhook-inbox'

/**
 * The main job: the local stack, the webhook inbox standing in for ops and the SIEM, and every
 * pipeline service with the defaults from deploy/ (the environment wins), each waited for. Every
 * process it starts is supervised from the moment it starts: one that exits is started again with
 * backoff, said in the log and recorded where `audit-stack status` reads it.
 */
export async function startPipeline(options: {
  env: NodeJS.ProcessEnv
  ownerPid: number
  log: (line: string) => void
  /** Kafka nodes (`--brokers`); by default AUDIT_STACK_BROKERS, else 1. */
  brokers?: KafkaClusterSize
}): Promise<RunningPipeline> {
  // Checked before anything starts, so a bad value costs no start-up.
  const policy = restartPolicyFrom(options.env)
  const stack = await startStack({
    env: options.env,
    log: options.log,
    ownerPid: options.ownerPid,
    ...(options.brokers !== undefined && { brokers: options.brokers }),
  })
  const { stateDir } = stack.state
  const supervisor = createSupervisor({
    policy,
    report: (line) => options.log(`[supervisor ${new Date().toTimeString().slice(0, 8)}] ${line}`),
    onChange: (processes) =>
      writeSupervisionState(stateDir, {
        ownerPid: options.ownerPid,
        updatedAt: new Date().toISOString(),
        processes,
      }),
  })
  for (const { name, launched } of stack.processes) {
    supervisor.watch(
      {
        name,
        logFile: launched.logFile,
        restart: () => relaunchStackProcess(stateDir, name),
        // `audit-stack down` from another shell stopped the stack on purpose.
        wanted: () => existsSync(stackStateFile(stateDir)),
      },
      launched,
    )
  }

  let inboxPid: number | undefined
  let services: RunningService[] = []
  const stopInbox = async () => {
    if (inboxPid !== undefined) await stopProcess(inboxPid)
  }
  try {
    await checkStackClickHouse(stack.state)
    const logDir = join(stateDir, 'logs')
    mkdirSync(logDir, { recursive: true })
    const webhookLog = join(logDir, 'webhooks.ndjson')
    const secret = newWebhookSecret()
    const inbox = webhookInboxProcess({
      port: await freePort(),
      secret,
      webhookLog,
      logFile: join(logDir, `${webhookInboxName}.log`),
    })
    const startInbox = () => {
      const launched = inbox.start()
      inboxPid = launched.pid
      watchProcesses(options.ownerPid, stateDir, [launched.pid])
      return launched
    }
    const inboxLaunched = startInbox()
    supervisor.watch(
      { name: webhookInboxName, logFile: inboxLaunched.logFile, restart: startInbox },
      inboxLaunched,
    )
    await inbox.waitUntilReady(inboxLaunched.pid)

    const { keysFile, key } = await writeLocalQueryApiKeys(stateDir)
    const queryApiPort = Number(options.env['QUERY_API_PORT'] ?? (await freePort()))
    const { clickhouse } = stack.state
    const local: LocalSetup = {
      receivers: writeLocalReceiverFiles(stateDir, inbox.url),
      signingKeyFile: writeLocalSigningKey(stateDir).signingKeyFile,
      fieldKeys: await writeLocalFieldKeys(stateDir, options.env),
      queryApi: { keysFile, port: queryApiPort },
      env: { [localWebhookSecretVariable]: secret },
      ...(clickhouse.kind === 'http' && {
        clickhouseUsers: await applyLocalClickHouseAccess({
          stateDir,
          url: clickhouse.url,
          database: clickhouse.database,
          keysFile,
          env: options.env,
        }),
      }),
    }
    services = await startServices(stack.state, {
      ownerPid: options.ownerPid,
      env: options.env,
      local,
      log: options.log,
      supervise: (spec, launched) => supervisor.watch(spec, launched),
    })
    const endpoints: LocalEndpoints = {
      ownerPid: options.ownerPid,
      queryApi: { url: `http://127.0.0.1:${queryApiPort}`, key },
      webhookLog,
      inboxUrl: inbox.url,
      // What the services got, for `audit-pipeline erase`.
      fieldKeys: local.fieldKeys,
    }
    writePipelineEndpoints(stateDir, endpoints)
    return {
      stack,
      services,
      endpoints,
      supervisor,
      describe: (cwd = process.cwd()) => statusTable(stack, services, endpoints, cwd),
      stop: async () => {
        supervisor.stop()
        removePipelineEndpoints(stateDir)
        await stopServices(services)
        await stopInbox()
        await stack.stop()
        removeSupervisionState(stateDir)
      },
    }
  } catch (error) {
    supervisor.stop()
    await stopServices(services)
    await stopInbox()
    await stack.stop()
    removeSupervisionState(stateDir)
    throw error
  }
}

function statusTable(
  stack: StackHandle,
  services: RunningService[],
  endpoints: LocalEndpoints,
  cwd: string,
): string {
  const shown = (path: string) => (relative(cwd, path).startsWith('..') ? path : relative(cwd, path))
  const { queryApi } = endpoints
  return [
    `audit-pipeline is up${stack.reused ? ' (on the already running stack)' : ` in ${stack.startSeconds.toFixed(1)} s`}:\n`,
    describeStack(stack.state),
    '\n  Services (metrics at /metrics, health at /healthz and /readyz):',
    describeServices(services, cwd),
    '',
    `  Query API:        ${queryApi.url} (OpenAPI at /openapi.json; key ${queryApi.key.split('.')[0]} in ${shown(pipelineEndpointsFile(stack.state.stateDir))}, used by the CLI)`,
    `  More API keys:    npx audit-pipeline keys create --role analyst --tenant <tenant> (kept in ${shown(localQueryApiKeysFile(stack.state.stateDir))} across restarts; keys list, keys revoke)`,
    `  Webhook inbox:    ${endpoints.inboxUrl} (forwarded events at /siem, alerts at /ops; signed, each delivery in ${shown(endpoints.webhookLog)})`,
    `  Alert rules:      deploy/alerting/rules.yaml (SIGHUP the alerting process to reload)`,
    `  Field keys:       ${shown(endpoints.fieldKeys.directory)}, key-encryption key ${shown(endpoints.fieldKeys.kekFile)} (kept across restarts; sealed values open with them); erase a data subject: npx audit-pipeline erase --tenant <tenant> --subject <subject>`,
    `  Supervision:      ${stack.reused ? 'a service or the inbox' : 'a process'} that exits is started again (backoff 1 s to 30 s), said here; npm run stack:status shows each one's state, restarts and last error`,
    '  Send events:      npx audit-pipeline produce --file schemas/examples/ticket-9548-B1.ndjson',
    '  Look at them:     npx audit-pipeline query timeline ticket 9548-B1; npx audit-pipeline alerts',
    '  Dead letters:     npx audit-pipeline dlq list',
    '  Press Ctrl-C to stop everything.',
  ].join('\n')
}
