const ellipsis = '…'
const ellipsisBytes = Buffer.byteLength(ellipsis)

/**
 * `text` if its UTF-8 encoding fits in `maxBytes`; otherwise its longest prefix that fits together
 * with a trailing ellipsis, cut between characters, never inside one (a cut multi-byte sequence
 * would decode as U+FFFD).
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length <= maxBytes) return text
  let end = Math.max(0, maxBytes - ellipsisBytes)
  // UTF-8 continuation bytes are 10xxxxxx: step back to the first byte of the cut character.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
  return bytes.subarray(0, end).toString('utf8') + ellipsis
}
