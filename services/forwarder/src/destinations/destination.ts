import type { AddressPolicy } from '@audit-pipeline/outbound'
import type { EventFilter } from '../filter/eventFilter.js'
import type { EventFormat } from '../format/eventFormats.js'
import type { Projection } from '../projection/projectEvent.js'
import type { RetryPolicy } from '../delivery/retryPolicy.js'

export const destinationKinds = ['webhook', 'splunk_hec', 'syslog'] as const
export type DestinationKind = (typeof destinationKinds)[number]

/**
 * What a destination reads: the forwarded `events` (FORWARDER_INPUT_TOPICS), or the signed
 * integrity `checkpoints` the ClickHouse sink publishes (FORWARDER_CHECKPOINT_TOPIC), sent on
 * unchanged so that a checkpoint that left the building cannot be rolled back (anchoring).
 */
export const destinationInputs = ['events', 'checkpoints'] as const
export type DestinationInput = (typeof destinationInputs)[number]

/** How events are grouped into one request. */
export type BatchLimits = {
  maxEvents: number
  /** Bytes of formatted events per request. */
  maxBytes: number
  /** How long the broker may hold a fetch to fill a batch, ms. */
  maxAgeMs: number
}

/** Opossum's settings: when the breaker opens and how long it stays open. */
export type BreakerSettings = {
  errorThresholdPercent: number
  /** Attempts in the rolling window before the breaker may open at all. */
  volumeThreshold: number
  /** Open this long, then one attempt (half open) decides, ms. */
  resetTimeoutMs: number
}

export type TlsSettings = {
  /** Verify the destination's certificate (default true). */
  verify: boolean
  /** PEM bundle to verify against instead of the system's CAs. */
  ca?: string
}

/** What every destination has, whatever its kind. */
type DestinationCommon = {
  name: string
  /** `checkpoints`: a webhook only, with no filter, projection or redaction (parseDestinations). */
  input: DestinationInput
  filter: EventFilter
  filterSource?: string
  projection: Projection
  format: EventFormat
  batch: BatchLimits
  retry: RetryPolicy
  breaker: BreakerSettings
  outbound: AddressPolicy
  timeouts: { connectMs: number; responseMs: number }
}

export type HttpDestination = DestinationCommon & {
  kind: 'webhook' | 'splunk_hec'
  url: URL
  /** Sent with every request: auth and custom headers. */
  headers: Record<string, string>
  /** Standard Webhooks signing key (decoded); webhook only. */
  signingKey?: Buffer
  tls: TlsSettings
  maxResponseBytes: number
}

export type SyslogDestination = DestinationCommon & {
  kind: 'syslog'
  host: string
  port: number
  /** Unset: plain TCP. */
  tls?: TlsSettings
}

export type Destination = HttpDestination | SyslogDestination
