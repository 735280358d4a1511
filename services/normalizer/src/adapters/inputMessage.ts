/** Kafka headers as the consumer hands them over: values decoded as UTF-8, absent as undefined. */
export type MessageHeaders = Readonly<Record<string, string | undefined>>

/**
 * One message from a producer topic that is not Avro (the consumer sends values starting with the
 * Confluent magic byte 0 to the codec). `value` is null for a tombstone.
 */
export type InputMessage = { value: Buffer | null; headers: MessageHeaders }

/**
 * A header's value, its name compared without case: Kafka header names are case-sensitive, but
 * producers bridged from HTTP write `Content-Type` as often as `content-type`.
 */
export function headerValue(headers: MessageHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && key.toLowerCase() === wanted) return value
  }
  return undefined
}

/** A media type without its parameters, lower-cased: `Application/JSON; charset=utf-8` is `application/json`. */
export function mediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase()
}

/** Whether a media type is JSON: application/json, text/json or any `+json` structured suffix. */
export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json')
}
