import canonicalize from 'canonicalize'

/**
 * RFC 8785 (JSON Canonicalization Scheme) text of a JSON value: object keys sorted by UTF-16
 * code units, no whitespace, numbers and strings as ECMAScript's JSON.stringify writes them. This
 * is the reference every hashed and signed form in this package is defined by. Strings must be
 * well-formed UTF-16 (canonicalize refuses a lone surrogate): callers make them so first.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value)
  if (text === undefined) throw new TypeError(`${typeof value} has no JSON form`)
  return text
}

/**
 * `text` as it reads back after UTF-8 encoding: a lone surrogate becomes U+FFFD. Avro and
 * ClickHouse store UTF-8, so this is the string verification later recomputes from; hashing it
 * rather than the raw value keeps the digest checkable after the round trip.
 */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed()
}

/**
 * Text JSON.stringify writes as it is, between quotes: no quote, backslash, control character or
 * surrogate. Most strings are such, and testing for it costs half of JSON.stringify.
 */
// eslint-disable-next-line no-control-regex -- control characters are what JSON must escape
const plainText = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/

/** A string in RFC 8785 form, well-formed first. */
export function jsonText(value: string): string {
  return plainText.test(value) ? `"${value}"` : JSON.stringify(wellFormed(value))
}

/** jsonText without the quotes around it: most strings are written as they are, with no copy. */
export function jsonTextInner(value: string): string {
  return plainText.test(value) ? value : JSON.stringify(wellFormed(value)).slice(1, -1)
}
