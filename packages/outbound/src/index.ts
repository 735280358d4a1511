// What every service that sends to a URL from its configuration shares: which addresses it may
// connect to (checked when the configuration is read, at start-up and on every connect), and the
// rule for Standard Webhooks signing secrets.
export {
  addressPolicy,
  checkAddress,
  ipLiteralOf,
  type AddressPolicy,
  type AddressVerdict,
} from './addressPolicy.js'
export { AddressRefusedError, findAddressRefusal } from './addressRefusedError.js'
export { checkHost, guardedLookup, refusalFor, type ResolveAll } from './guardedLookup.js'
export { minWebhookSecretBytes, webhookSigningKey, WebhookSecretError } from './webhookSecret.js'
