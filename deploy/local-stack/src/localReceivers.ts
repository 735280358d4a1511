import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The variable the local forwarder destination and alert receiver read their signing secret from. */
export const localWebhookSecretVariable = 'AUDIT_LOCAL_WEBHOOK_SECRET'

export type LocalReceiverFiles = { forwarderDestinations: string; alertReceivers: string }

/**
 * Writes, into the stack's state folder, the forwarder's destinations and the alerting service's
 * receivers for `npm start`: both deliver to the local webhook inbox at `inboxUrl`, signed with
 * the secret in AUDIT_LOCAL_WEBHOOK_SECRET. (Written at start-up: the inbox's port is picked then.)
 */
export function writeLocalReceiverFiles(stateDir: string, inboxUrl: string): LocalReceiverFiles {
  const forwarderDestinations = join(stateDir, 'forwarder-destinations.yaml')
  const alertReceivers = join(stateDir, 'alert-receivers.yaml')
  writeFileSync(
    forwarderDestinations,
    `# Written by npm start: what the normalizer routes to audit.forward goes to the local webhook
# inbox (.stack/logs/webhooks.ndjson). The format: deploy/forwarder/destinations.example.yaml.
destinations:
  - name: local-siem
    kind: webhook
    url: ${inboxUrl}/siem
    format: json_array
    signing_secret_env: ${localWebhookSecretVariable}
    allowed_private_addresses: [127.0.0.1]
`,
  )
  writeFileSync(
    alertReceivers,
    `# Written by npm start: every alert goes to the local webhook inbox
# (.stack/logs/webhooks.ndjson). The format: deploy/alerting/receivers.example.yaml.
receivers:
  - name: local-ops
    url: ${inboxUrl}/ops
    secretEnv: ${localWebhookSecretVariable}
    allowedPrivateAddresses: [127.0.0.1]
`,
  )
  return { forwarderDestinations, alertReceivers }
}
