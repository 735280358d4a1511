import { z } from 'zod'
import { webhookFormats } from '../format/eventFormats.js'
import { destinationInputs } from './destination.js'

const positive = (example: number) =>
  z
    .number({ error: `expected a whole number above 0, e.g. ${example}` })
    .int()
    .positive()

/** Destination names become consumer group and topic names: Kafka's characters, kept short. */
export const destinationName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'expected 1 to 63 of a-z 0-9 _ - (it names a consumer group and topics)',
  )

/** An environment variable holding a secret: secrets are never written in the file. */
const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the name of an environment variable, e.g. SIEM_TOKEN')

const fields = z
  .object({
    /** Only these field paths are sent (`event_id` always is). */
    include: z.array(z.string()).min(1).optional(),
    /** These field paths are removed. */
    exclude: z.array(z.string()).default([]),
  })
  .strict()

const batch = z
  .object({
    max_events: positive(500).max(100_000).default(500),
    max_bytes: positive(1_048_576).default(1_048_576),
    max_age_ms: positive(1000).max(60_000).default(1000),
  })
  .strict()
  .default({ max_events: 500, max_bytes: 1_048_576, max_age_ms: 1000 })

const retry = z
  .object({
    max_attempts: positive(8).max(1000).default(8),
    initial_delay_ms: positive(500).default(500),
    max_delay_ms: positive(30_000).default(30_000),
  })
  .strict()
  .default({ max_attempts: 8, initial_delay_ms: 500, max_delay_ms: 30_000 })

const breaker = z
  .object({
    error_threshold_percent: positive(50).max(100).default(50),
    volume_threshold: positive(5).default(5),
    reset_timeout_ms: positive(10_000).default(10_000),
  })
  .strict()
  .default({ error_threshold_percent: 50, volume_threshold: 5, reset_timeout_ms: 10_000 })

const timeouts = z
  .object({
    connect_ms: positive(5000).default(5000),
    response_ms: positive(10_000).default(10_000),
  })
  .strict()
  .default({ connect_ms: 5000, response_ms: 10_000 })

const tls = z
  .object({
    verify: z.boolean({ error: 'expected true or false' }).default(true),
    ca_file: z.string().min(1).optional(),
  })
  .strict()

const common = {
  name: destinationName,
  /** What it reads: `events` (default) or `checkpoints` (webhook only). */
  input: z
    .enum(destinationInputs, { error: `expected one of: ${destinationInputs.join(', ')}` })
    .default('events'),
  /** CEL over `event`; unset: every event. */
  filter: z.string().min(1, 'expected a CEL expression, or no filter key for every event').optional(),
  fields: fields.optional(),
  /** Default false; optional here so that a checkpoints destination can be told it has no meaning there. */
  allow_sensitive: z.boolean({ error: 'expected true or false' }).optional(),
  batch,
  retry,
  breaker,
  timeouts,
  allowed_private_addresses: z.array(z.string()).default([]),
}

const auth = z.union(
  [
    z.object({ bearer_token_env: envName }).strict(),
    z.object({ basic: z.object({ username: z.string().min(1), password_env: envName }).strict() }).strict(),
  ],
  { error: 'expected { bearer_token_env: VAR } or { basic: { username: …, password_env: VAR } }' },
)

const httpUrl = z.string().refine((text) => URL.canParse(text) && /^https?:$/.test(new URL(text).protocol), {
  message: 'expected an http:// or https:// URL',
})

const webhook = z
  .object({
    ...common,
    kind: z.literal('webhook'),
    url: httpUrl,
    format: z
      .enum(webhookFormats, { error: `expected one of: ${webhookFormats.join(', ')}` })
      .default('json_array'),
    /** Standard Webhooks secret (`whsec_…`); unset: batches are not signed. */
    signing_secret_env: envName.optional(),
    auth: auth.optional(),
    headers: z.record(z.string(), z.string()).default({}),
    tls: tls.default({ verify: true }),
    max_response_bytes: positive(65_536).default(65_536),
  })
  .strict()

const splunkHec = z
  .object({
    ...common,
    kind: z.literal('splunk_hec'),
    /** The collector's base URL (https://splunk:8088) or its full /services/collector/event URL. */
    url: httpUrl,
    token_env: envName,
    index: z.string().min(1).optional(),
    source: z.string().min(1).optional(),
    sourcetype: z.string().min(1).default('audit:event'),
    host: z.string().min(1).optional(),
    tls: tls.default({ verify: true }),
    max_response_bytes: positive(65_536).default(65_536),
  })
  .strict()

const syslog = z
  .object({
    ...common,
    kind: z.literal('syslog'),
    host: z.string().min(1),
    port: z.number({ error: 'expected a port number from 1 to 65535' }).int().min(1).max(65_535),
    /** Unset: plain TCP. */
    tls: tls.optional(),
    facility: z.number({ error: 'expected 0 to 23' }).int().min(0).max(23).default(13),
    /** HOSTNAME in each message; default the machine's name. */
    hostname: z.string().min(1).optional(),
  })
  .strict()

export const destinationSchema = z.discriminatedUnion('kind', [webhook, splunkHec, syslog], {
  error: 'expected kind: webhook, splunk_hec or syslog',
})

export const destinationsDocument = z
  .object({ destinations: z.array(destinationSchema).min(1, 'expected at least one destination') })
  .strict()

export type DestinationSpec = z.infer<typeof destinationSchema>
