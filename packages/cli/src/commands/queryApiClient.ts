/**
 * Where the query API is and which key to use: `--api-url`/AUDIT_API_URL, `--api-key`/AUDIT_API_KEY,
 * or else the running `npm start`'s (its state folder's pipeline.json).
 */
export type QueryApiEndpoint = { url: string; key: string }

/** The query API's default address (services/query-api: QUERY_API_PORT). */
export const defaultQueryApiUrl = 'http://127.0.0.1:8480'

export type QueryApiClient = {
  get<T>(path: string, query?: URLSearchParams): Promise<T>
  post<T>(path: string, body: unknown): Promise<T>
}

/** Thrown when the API answers with an error; the message is the API's own. */
export class QueryApiError extends Error {
  override readonly name = 'QueryApiError'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Resolves the endpoint from flags, then the environment, then the local `npm start` when one
 * runs; throws saying what is missing.
 */
export function resolveQueryApiEndpoint(
  flags: { apiUrl?: string; apiKey?: string },
  env: NodeJS.ProcessEnv,
  local?: QueryApiEndpoint,
): QueryApiEndpoint {
  const explicitUrl = flags.apiUrl ?? env['AUDIT_API_URL']
  // The local key belongs to the local API only.
  const fallback = explicitUrl === undefined || explicitUrl === local?.url ? local : undefined
  const url = explicitUrl ?? fallback?.url ?? defaultQueryApiUrl
  if (!/^https?:\/\/[^/\s]+/.test(url)) {
    throw new Error(`--api-url (or AUDIT_API_URL) must be an http:// or https:// URL; got '${url}'`)
  }
  const key = flags.apiKey ?? env['AUDIT_API_KEY'] ?? fallback?.key
  if (!key) {
    throw new Error(
      'no API key: pass --api-key <key id>.<secret> or set AUDIT_API_KEY (with `npm start` running, its own key is used)',
    )
  }
  if (!/^[^.\s]+\.\S+$/.test(key)) throw new Error('the API key must read <key id>.<secret>')
  return { url: url.replace(/\/+$/, ''), key }
}

/** A small fetch client for the query API; errors carry the API's message and status. */
export function createQueryApiClient(
  endpoint: QueryApiEndpoint,
  fetchImpl: typeof fetch = fetch,
): QueryApiClient {
  const headers = { authorization: `Bearer ${endpoint.key}` }
  const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
    let response: Response
    try {
      response = await fetchImpl(`${endpoint.url}${path}`, {
        ...init,
        headers: { ...headers, ...init.headers },
      })
    } catch (error) {
      throw new Error(`cannot reach the query API at ${endpoint.url}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    if (response.ok) return response
    const text = await response.text()
    let message = text
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text
    } catch {
      // Not JSON: the text is the message.
    }
    throw new QueryApiError(response.status, `query API answered ${response.status}: ${message}`)
  }
  const withQuery = (path: string, query?: URLSearchParams) =>
    query && query.size > 0 ? `${path}?${query.toString()}` : path
  return {
    async get<T>(path: string, query?: URLSearchParams) {
      return (await (await call(withQuery(path, query))).json()) as T
    },
    async post<T>(path: string, body: unknown) {
      const response = await call(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return (await response.json()) as T
    },
  }
}
