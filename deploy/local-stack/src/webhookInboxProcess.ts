import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { localWebhookSecretVariable } from './localReceivers.js'
import { repoRoot } from './paths.js'
import { launch, stopProcess, type LaunchedProcess } from './processes.js'
import { waitUntilReady } from './waitUntilReady.js'

/** Compiled, like the services `npm start` runs (it builds first). */
const entry = join(repoRoot, 'deploy/local-stack/dist/webhookInboxMain.js')

export type WebhookInboxProcess = {
  url: string
  /** Starts it (again) on the same port, with the same secret and log. */
  start(): LaunchedProcess
  /** Waits until it answers HTTP, failing fast with its log when it exits. */
  waitUntilReady(pid: number): Promise<void>
}

/** The local webhook inbox (webhookInbox.ts) as its own process on 127.0.0.1:`port`. */
export function webhookInboxProcess(options: {
  port: number
  secret: string
  /** Where each delivery is appended (one JSON line each). */
  webhookLog: string
  /** The process's own output. */
  logFile: string
}): WebhookInboxProcess {
  const url = `http://127.0.0.1:${options.port}`
  return {
    url,
    start: () => {
      if (!existsSync(entry))
        throw new Error('the webhook inbox is not built: run `npm run build` (npm start builds first)')
      return launch(process.execPath, [entry], {
        cwd: repoRoot,
        logFile: options.logFile,
        env: {
          ...process.env,
          WEBHOOK_INBOX_PORT: String(options.port),
          WEBHOOK_INBOX_LOG: options.webhookLog,
          [localWebhookSecretVariable]: options.secret,
        },
      })
    },
    waitUntilReady: async (pid) => {
      try {
        await waitUntilReady({
          what: `the webhook inbox on ${url}`,
          pid,
          logFile: options.logFile,
          timeoutMs: 30_000,
          // It answers anything but a POST with 405: up.
          probe: async () => (await fetch(url).catch(() => undefined))?.status === 405,
        })
      } catch (error) {
        await stopProcess(pid)
        throw error
      }
    },
  }
}
