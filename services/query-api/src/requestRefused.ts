/** A request the API turns down with a client error: the status and a message saying what to fix. */
export class RequestRefused extends Error {
  override readonly name = 'RequestRefused'
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 429 | 503,
    message: string,
    /** Seconds after which trying again may succeed, sent as Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message)
  }
}

/** The access record could not be written: the answer is withheld rather than given unaudited. */
export class AccessNotAudited extends Error {
  override readonly name = 'AccessNotAudited'
}
