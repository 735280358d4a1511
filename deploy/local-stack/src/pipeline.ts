import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { checkStackClickHouse } from './clickhouseCheck.js'
import { applyLocalClickHouseAccess } from './localClickHouseAccess.js'
import { freePort } from './freePort.js'
import { localWebhookSecretVariable, writeLocalReceiverFiles } from './localReceivers.js'
import { localQueryApiKeysFile, writeLocalQueryApiKeys, type LocalQueryApi } from './localQueryApi.js'
import { isAlive } from './processes.js'
import {
  describeServices,
  startServices,
  stopServices,
  type LocalSetup,
  type RunningService,
} from './pipelineServices.js'
import { startStack, type StackHandle } from './stack.js'
import { describeStack } from './statusTable.js'
import { startWebhookInbox, type WebhookInbox } from './webhookInbox.js'

/** What a running `npm start` offers its users, written to the state folder for the CLI and the demo. */
export type PipelineEndpoints = {
  ownerPid: number
  queryApi: LocalQueryApi
  /** Every webhook the local inbox received, one JSON line each (path, webhook id, verified, body). */
  webhookLog: string
  inboxUrl: string
}

export type RunningPipeline = {
  stack: StackHandle
  services: RunningService[]
  endpoints: PipelineEndpoints
  /** The status table: endpoints, topics, services, files. */
  describe(cwd?: string): string
  /** Services first (they finish their batch and commit while the broker is up), then the inbox and the stack. */
  stop(): Promise<void>
}

const endpointsFile = (stateDir: string) => join(stateDir, 'pipeline.json')

/**
 * The main job: the local stack, the webhook inbox standing in for ops and the SIEM, and every
 * pipeline service with the defaults from deploy/ (the environment wins), each waited for.
 */
export async function startPipeline(options: {
  env: NodeJS.ProcessEnv
  ownerPid: number
  log: (line: string) => void
}): Promise<RunningPipeline> {
  const stack = await startStack({ env: options.env, log: options.log, ownerPid: options.ownerPid })
  const { stateDir } = stack.state
  let inbox: WebhookInbox | undefined
  let services: RunningService[] = []
  try {
    await checkStackClickHouse(stack.state)
    const logDir = join(stateDir, 'logs')
    mkdirSync(logDir, { recursive: true })
    const webhookLog = join(logDir, 'webhooks.ndjson')
    inbox = await startWebhookInbox({ logFile: webhookLog })
    const { keysFile, key } = await writeLocalQueryApiKeys(stateDir)
    const queryApiPort = Number(options.env['QUERY_API_PORT'] ?? (await freePort()))
    const { clickhouse } = stack.state
    const local: LocalSetup = {
      receivers: writeLocalReceiverFiles(stateDir, inbox.url),
      queryApi: { keysFile, port: queryApiPort },
      env: { [localWebhookSecretVariable]: inbox.secret },
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
    })
    const endpoints: PipelineEndpoints = {
      ownerPid: options.ownerPid,
      queryApi: { url: `http://127.0.0.1:${queryApiPort}`, key },
      webhookLog,
      inboxUrl: inbox.url,
    }
    writeFileSync(endpointsFile(stateDir), `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 })
    const startedInbox = inbox
    return {
      stack,
      services,
      endpoints,
      describe: (cwd = process.cwd()) => statusTable(stack, services, endpoints, cwd),
      stop: async () => {
        rmSync(endpointsFile(stateDir), { force: true })
        await stopServices(services)
        await startedInbox.close()
        await stack.stop()
      },
    }
  } catch (error) {
    await stopServices(services)
    await inbox?.close()
    await stack.stop()
    throw error
  }
}

/** The endpoints of the `npm start` running in `stateDir`, if one is. */
export function readRunningPipeline(stateDir: string): PipelineEndpoints | undefined {
  const file = endpointsFile(stateDir)
  if (!existsSync(file)) return undefined
  const endpoints = JSON.parse(readFileSync(file, 'utf8')) as PipelineEndpoints
  return isAlive(endpoints.ownerPid) ? endpoints : undefined
}

function statusTable(
  stack: StackHandle,
  services: RunningService[],
  endpoints: PipelineEndpoints,
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
    `  Query API:        ${queryApi.url} (OpenAPI at /openapi.json; key ${queryApi.key.split('.')[0]} in ${shown(endpointsFile(stack.state.stateDir))}, used by the CLI)`,
    `  More API keys:    npx audit-pipeline keys create --role analyst --tenant <tenant> (kept in ${shown(localQueryApiKeysFile(stack.state.stateDir))} across restarts; keys list, keys revoke)`,
    `  Webhook inbox:    ${endpoints.inboxUrl} (forwarded events at /siem, alerts at /ops; signed, each delivery in ${shown(endpoints.webhookLog)})`,
    `  Alert rules:      deploy/alerting/rules.yaml (SIGHUP the alerting process to reload)`,
    '  Send events:      npx audit-pipeline produce --file schemas/examples/ticket-9548-B1.ndjson',
    '  Look at them:     npx audit-pipeline query timeline ticket 9548-B1; npx audit-pipeline alerts',
    '  Dead letters:     npx audit-pipeline dlq list',
    '  Press Ctrl-C to stop everything.',
  ].join('\n')
}
