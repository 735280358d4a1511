/**
 * The local webhook inbox as a process of its own, so `npm start` supervises it like everything
 * else it starts (webhookInboxProcess.ts starts it). Settings come from the environment:
 * WEBHOOK_INBOX_PORT, WEBHOOK_INBOX_LOG and the signing secret in AUDIT_LOCAL_WEBHOOK_SECRET.
 */
import { localWebhookSecretVariable } from './localReceivers.js'
import { startWebhookInbox } from './webhookInbox.js'

const port = Number(process.env['WEBHOOK_INBOX_PORT'])
const logFile = process.env['WEBHOOK_INBOX_LOG']
const secret = process.env[localWebhookSecretVariable]
if (!Number.isInteger(port) || port <= 0 || !logFile || !secret) {
  process.stderr.write(
    `webhook inbox: WEBHOOK_INBOX_PORT, WEBHOOK_INBOX_LOG and ${localWebhookSecretVariable} must be set (it is started by npm start)\n`,
  )
  process.exit(2)
}
const inbox = await startWebhookInbox({ logFile, port, secret })
process.stdout.write(`webhook inbox listening on ${inbox.url}\n`)
const stop = () => void inbox.close().then(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
