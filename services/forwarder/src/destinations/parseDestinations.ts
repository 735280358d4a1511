import { LineCounter, parseDocument } from 'yaml'
import type { z } from 'zod'
import {
  formatDocumentPath,
  positionAtOffset,
  positionOf,
  type DocumentPath,
  type PointAt,
} from '@audit-pipeline/config'
import {
  addressPolicy,
  checkAddress,
  ipLiteralOf,
  webhookSigningKey,
  type AddressPolicy,
} from '@audit-pipeline/outbound'
import { compileFilter, everyEvent, type EventFilter } from '../filter/eventFilter.js'
import { splunkHecFormat, syslogFormat, webhookFormat } from '../format/eventFormats.js'
import { contentDigestField, parseFieldPath, type Projection } from '../projection/projectEvent.js'
import type { Destination, TlsSettings } from './destination.js'
import { destinationsDocument, type DestinationSpec } from './destinationsSchema.js'
import { DestinationsConfigError, type DestinationsProblem } from './destinationsConfigError.js'

export type DestinationsSource = {
  /** Named in every error. */
  file: string
  /** Where `*_env` secrets are read. */
  env: Record<string, string | undefined>
  /** Reads a `tls.ca_file`; the caller's, so parsing stays free of I/O. */
  readFile: (path: string) => string
  /** The syslog HOSTNAME when a destination sets none. */
  defaultHostname: string
}

/** The event's fields, for checking `fields.include` and `fields.exclude` paths. */
const eventFieldNames = new Set([
  'event_id',
  'occurred_at',
  'recorded_at',
  'tenant',
  'source',
  'actor',
  'on_behalf_of',
  'action',
  'category',
  'object',
  'changes',
  'before',
  'after',
  'outcome',
  'severity',
  'correlation',
  'attributes',
  'sensitive_fields',
])

/**
 * The header that says what a checkpoints destination's requests carry (`audit-payload:
 * checkpoints`): the body is the checkpoints exactly as signed, so what it is cannot go inside.
 */
export const payloadHeader = 'audit-payload'

/** Headers the forwarder sets itself: a custom header must not replace them. */
const reservedHeaders = new Set([
  'content-type',
  'content-length',
  'host',
  'authorization',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  payloadHeader,
])

/** Keys that choose, cut or hide parts of an event: a checkpoint is sent whole, as signed. */
const eventOnlyKeys = ['filter', 'fields', 'allow_sensitive'] as const

/**
 * Reads a destinations file (deploy/forwarder/destinations.example.yaml describes it) into
 * destinations ready to use, or throws DestinationsConfigError listing every problem with its
 * line, column and destination: malformed YAML, unknown keys, bad values, filters that do not
 * compile, secrets whose variable is unset, and hosts written as private IP addresses that the
 * destination is not allowed (names are resolved, and checked, when connecting).
 */
export function parseDestinations(text: string, source: DestinationsSource): Destination[] {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const problems: (DestinationsProblem & { offset: number })[] = []
  const throwProblems = (): never => {
    throw new DestinationsConfigError(
      source.file,
      problems.sort((a, b) => a.offset - b.offset).map(({ offset: _, ...problem }) => problem),
    )
  }
  for (const error of [...doc.errors, ...doc.warnings]) {
    problems.push({
      file: source.file,
      ...positionAtOffset(lineCounter, error.pos[0]),
      path: '',
      message: `YAML: ${error.message}`,
    })
  }
  if (problems.length > 0) throwProblems()

  const data: unknown = doc.toJS({ maxAliasCount: 100 })
  const nameAt = (path: DocumentPath): string | undefined => {
    if (path[0] !== 'destinations' || typeof path[1] !== 'number') return undefined
    const entry = (data as { destinations?: unknown[] } | null)?.destinations?.[path[1]]
    const name = (entry as { name?: unknown } | undefined)?.name
    return typeof name === 'string' ? name : undefined
  }
  const add = (path: DocumentPath, message: string, pointAt: PointAt = 'value') => {
    const destination = nameAt(path)
    problems.push({
      file: source.file,
      ...positionOf(doc, lineCounter, path, pointAt),
      ...(destination !== undefined && { destination }),
      path: formatDocumentPath(path),
      message,
    })
  }

  const parsed = destinationsDocument.safeParse(data)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) addIssue(issue, add)
    throwProblems()
  }
  const specs = parsed.data!.destinations
  const seen = new Map<string, number>()
  const destinations: Destination[] = []
  for (const [index, spec] of specs.entries()) {
    const at = (...rest: PropertyKey[]): DocumentPath => ['destinations', index, ...rest]
    const earlier = seen.get(spec.name)
    if (earlier !== undefined)
      add(at('name'), `a second destination named ${spec.name} (the first is destinations[${earlier}])`)
    seen.set(spec.name, index)
    const destination = compileDestination(spec, source, (path, message) => add(at(...path), message))
    if (destination) destinations.push(destination)
  }
  if (problems.length > 0) throwProblems()
  return destinations
}

type Report = (path: PropertyKey[], message: string) => void

/** Where a destination's allow-list is, as a refused connection names it. */
const allowListName = "the destination's allowed_private_addresses"

function compileDestination(
  spec: DestinationSpec,
  source: DestinationsSource,
  report: Report,
): Destination | undefined {
  let failed = false
  const fail = (path: PropertyKey[], message: string) => {
    failed = true
    report(path, message)
  }
  const secret = (path: PropertyKey[], variable: string): string => {
    const value = source.env[variable]
    if (value === undefined || value.trim() === '')
      fail(path, `${variable} is not set (it holds this destination's secret)`)
    return value ?? ''
  }
  const readTls = (settings: { verify: boolean; ca_file?: string | undefined }): TlsSettings => {
    if (settings.ca_file === undefined) return { verify: settings.verify }
    try {
      return { verify: settings.verify, ca: source.readFile(settings.ca_file) }
    } catch (error) {
      fail(['tls', 'ca_file'], `cannot read ${settings.ca_file}: ${(error as Error).message}`)
      return { verify: settings.verify }
    }
  }

  const checkpoints = spec.input === 'checkpoints'
  if (checkpoints) {
    if (spec.kind !== 'webhook')
      fail(['input'], `checkpoints go to kind: webhook only; a ${spec.kind} destination takes events`)
    for (const key of eventOnlyKeys) {
      if (spec[key] !== undefined)
        fail([key], `not for input: checkpoints, which are sent whole, as signed; remove ${key}`)
    }
  }

  let filter: EventFilter = everyEvent
  if (spec.filter !== undefined && !checkpoints) {
    try {
      filter = compileFilter(spec.filter)
    } catch (error) {
      fail(['filter'], `CEL: ${(error as Error).message.split('\n').join(' ').replace(/\s+/g, ' ')}`)
    }
  }

  let outbound: AddressPolicy = addressPolicy([], allowListName)
  spec.allowed_private_addresses.forEach((entry, i) => {
    try {
      addressPolicy([entry], allowListName)
    } catch (error) {
      fail(['allowed_private_addresses', i], (error as Error).message)
    }
  })
  if (!failed) outbound = addressPolicy(spec.allowed_private_addresses, allowListName)

  const fields = checkpoints ? undefined : spec.fields
  const projection: Projection = {
    ...(fields?.include && { include: fieldPaths(fields.include, ['fields', 'include'], fail) }),
    exclude: fieldPaths(fields?.exclude ?? [], ['fields', 'exclude'], fail),
    allowSensitive: spec.allow_sensitive ?? false,
  }
  const common = {
    name: spec.name,
    input: spec.input,
    filter,
    ...(spec.filter !== undefined && { filterSource: spec.filter }),
    projection,
    batch: {
      maxEvents: spec.batch.max_events,
      maxBytes: spec.batch.max_bytes,
      maxAgeMs: spec.batch.max_age_ms,
    },
    retry: {
      maxAttempts: spec.retry.max_attempts,
      initialDelayMs: spec.retry.initial_delay_ms,
      maxDelayMs: spec.retry.max_delay_ms,
    },
    breaker: {
      errorThresholdPercent: spec.breaker.error_threshold_percent,
      volumeThreshold: spec.breaker.volume_threshold,
      resetTimeoutMs: spec.breaker.reset_timeout_ms,
    },
    outbound,
    timeouts: { connectMs: spec.timeouts.connect_ms, responseMs: spec.timeouts.response_ms },
  }
  if (spec.retry.initial_delay_ms > spec.retry.max_delay_ms) {
    fail(['retry', 'initial_delay_ms'], `must not exceed retry.max_delay_ms (${spec.retry.max_delay_ms})`)
  }

  const checkHost = (host: string, path: PropertyKey[]) => {
    const literal = ipLiteralOf(host)
    if (literal === undefined) return
    const verdict = checkAddress(literal, outbound)
    if (!verdict.allowed) {
      fail(
        path,
        `${literal} is a ${verdict.range} address; list it in allowed_private_addresses if it is meant to be reached`,
      )
    }
  }

  let destination: Destination
  if (spec.kind === 'syslog') {
    checkHost(spec.host, ['host'])
    destination = {
      ...common,
      kind: 'syslog',
      host: spec.host,
      port: spec.port,
      ...(spec.tls && { tls: readTls(spec.tls) }),
      format: syslogFormat({ facility: spec.facility, hostname: spec.hostname ?? source.defaultHostname }),
    }
  } else {
    const url = new URL(spec.url)
    checkHost(url.hostname, ['url'])
    const headers: Record<string, string> = {}
    if (spec.kind === 'webhook') {
      for (const [name, value] of Object.entries(spec.headers)) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) fail(['headers', name], 'not a valid header name')
        else if (reservedHeaders.has(name.toLowerCase()))
          fail(
            ['headers', name],
            name.toLowerCase() === 'authorization'
              ? 'set by the forwarder itself; use auth for Authorization'
              : 'set by the forwarder itself',
          )
        else if (/[\r\n]/.test(value)) fail(['headers', name], 'a header value cannot hold a line break')
        else headers[name] = value
      }
      if (spec.auth && 'bearer_token_env' in spec.auth) {
        headers['authorization'] =
          `Bearer ${secret(['auth', 'bearer_token_env'], spec.auth.bearer_token_env)}`
      } else if (spec.auth) {
        const password = secret(['auth', 'basic', 'password_env'], spec.auth.basic.password_env)
        headers['authorization'] =
          `Basic ${Buffer.from(`${spec.auth.basic.username}:${password}`).toString('base64')}`
      }
      if (checkpoints) headers[payloadHeader] = 'checkpoints'
    } else {
      headers['authorization'] = `Splunk ${secret(['token_env'], spec.token_env)}`
      // A base URL gets the event endpoint; a full URL is used as written.
      if (url.pathname === '/' || url.pathname === '') url.pathname = '/services/collector/event'
    }
    let signingKey: Buffer | undefined
    if (spec.kind === 'webhook' && spec.signing_secret_env !== undefined) {
      const value = secret(['signing_secret_env'], spec.signing_secret_env)
      if (value !== '') {
        try {
          // At least 24 bytes once decoded (Standard Webhooks' recommendation): refused here, named.
          signingKey = webhookSigningKey(value)
        } catch (error) {
          fail(['signing_secret_env'], `${spec.signing_secret_env}: ${(error as Error).message}`)
        }
      }
    }
    destination = {
      ...common,
      kind: spec.kind,
      url,
      headers,
      ...(signingKey && { signingKey }),
      tls: readTls(spec.tls),
      maxResponseBytes: spec.max_response_bytes,
      format:
        spec.kind === 'webhook'
          ? webhookFormat(spec.format)
          : splunkHecFormat({
              sourcetype: spec.sourcetype,
              ...(spec.index !== undefined && { index: spec.index }),
              ...(spec.source !== undefined && { source: spec.source }),
              ...(spec.host !== undefined && { host: spec.host }),
            }),
    }
  }
  return failed ? undefined : destination
}

function fieldPaths(paths: readonly string[], at: PropertyKey[], fail: Report): string[][] {
  return paths.map((path, i) => {
    const segments = parseFieldPath(path)
    // content_digest is the forwarder's, a string: named whole or not at all.
    if (path === contentDigestField) return segments
    if (!eventFieldNames.has(segments[0] ?? '') || segments.some((segment) => segment === '')) {
      fail([...at, i], `'${path}' is not an event field path (e.g. actor.ip, attributes.channel, before)`)
    }
    return segments
  })
}

function addIssue(
  issue: z.core.$ZodIssue,
  add: (path: DocumentPath, message: string, pointAt?: PointAt) => void,
): void {
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) add([...issue.path, key], 'unknown key', 'key')
    return
  }
  add(issue.path, issue.message)
}
