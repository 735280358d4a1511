import { SchemaRegistryError } from './schemaRegistryError.js'

const mediaType = 'application/vnd.schemaregistry.v1+json'

/** Confluent's error code for "subject not found" (Apicurio's compatible API answers it too). */
const subjectNotFound = 40401

export type RegistryRequest = {
  /** The Confluent-compatible API's base URL, e.g. http://127.0.0.1:8080/apis/ccompat/v7. */
  registryUrl: string
  method: 'GET' | 'POST' | 'PUT'
  /** Below the base URL, path segments already encoded: `/subjects/${encodeURIComponent(s)}/versions`. */
  path: string
  /** Sent as JSON. */
  body?: unknown
  /** When true, a 404 "subject not found" (error code 40401) answers `undefined` instead of failing. */
  subjectMayBeMissing?: boolean
  /** When set, a 409 is a REGISTRY_REJECTED_SCHEMA error saying this (`v2 of <subject>`) was refused. */
  rejectedSchema?: string
  timeoutMs: number
}

/**
 * One request to the registry's Confluent-compatible API; answers the parsed JSON body of a 200.
 * Anything else is a SchemaRegistryError naming the URL: REGISTRY_UNREACHABLE without an answer,
 * REGISTRY_UNEXPECTED_RESPONSE (status and body) for any other answer. A 404 without error code
 * 40401 (a wrong base URL) is unexpected even when the subject may be missing.
 */
export async function registryRequest(request: RegistryRequest): Promise<unknown> {
  const { registryUrl, method, path, body, timeoutMs } = request
  const url = `${registryUrl.replace(/\/+$/, '')}${path}`
  let status: number
  let text: string
  try {
    const response = await fetch(url, {
      method,
      headers: {
        Accept: `${mediaType}, application/json`,
        ...(body !== undefined && { 'Content-Type': mediaType }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    })
    status = response.status
    text = await response.text()
  } catch (error) {
    throw new SchemaRegistryError(
      'REGISTRY_UNREACHABLE',
      `schema registry at ${registryUrl} is unreachable: ${method} ${url} ${failureReason(error, timeoutMs)}`,
      true,
      { cause: error },
    )
  }
  const json = parseJson(text)
  if (status === 200 && json.ok) return json.value
  if (
    status === 404 &&
    request.subjectMayBeMissing &&
    json.ok &&
    errorCodeOf(json.value) === subjectNotFound
  ) {
    return undefined
  }
  if (status === 409 && request.rejectedSchema !== undefined) {
    throw new SchemaRegistryError(
      'REGISTRY_REJECTED_SCHEMA',
      `schema registry at ${registryUrl} refused ${request.rejectedSchema}: ${shorten(text)}`,
      false,
    )
  }
  throw unexpectedResponse(request, `answered ${method} ${url} with ${status}: ${shorten(text)}`, status)
}

/** A 200 whose body is not what the API documents for it. */
export function unexpectedBody(
  request: RegistryRequest,
  body: unknown,
  expected: string,
): SchemaRegistryError {
  const url = `${request.registryUrl.replace(/\/+$/, '')}${request.path}`
  return unexpectedResponse(
    request,
    `answered ${request.method} ${url} with 200 but not ${expected}: ${shorten(JSON.stringify(body) ?? '')}`,
    200,
  )
}

function unexpectedResponse(request: RegistryRequest, what: string, status: number): SchemaRegistryError {
  return new SchemaRegistryError(
    'REGISTRY_UNEXPECTED_RESPONSE',
    `schema registry at ${request.registryUrl} ${what}`,
    status >= 500 || status === 429,
  )
}

function failureReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `gave no answer within ${timeoutMs} ms`
  // undici reports "fetch failed" and keeps the system error (ECONNREFUSED, ENOTFOUND) as the cause.
  const cause = error instanceof Error ? error.cause : undefined
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return `failed: ${typeof code === 'string' ? `${code} ` : ''}(${cause.message})`
  }
  return `failed: ${error instanceof Error ? error.message : String(error)}`
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

function errorCodeOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null ? (body as { error_code?: unknown }).error_code : undefined
}

function shorten(text: string): string {
  if (text.trim() === '') return '(empty body)'
  return text.length > 500 ? `${text.slice(0, 500)}…` : text
}
