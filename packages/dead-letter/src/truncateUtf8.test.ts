import { describe, expect, it } from 'vitest'
import { truncateUtf8 } from './truncateUtf8.js'

describe('truncateUtf8', () => {
  it('returns text that fits unchanged, to the exact byte', () => {
    expect(truncateUtf8('héllo', 6)).toBe('héllo')
  })

  it('cuts before a character that would not fit whole and adds an ellipsis within the cap', () => {
    // 'é' takes bytes 1-2; with 3 bytes for the ellipsis, a cap of 5 leaves 2 bytes: 'h' and half an 'é'.
    expect(truncateUtf8('héllo', 5)).toBe('h…')
    expect(truncateUtf8('h😀llo', 7)).toBe('h…')
    expect(truncateUtf8('h😀llo!', 8)).toBe('h😀…')
  })

  it('never exceeds the cap nor splits a character, whatever the cut', () => {
    const text = 'aé€😀'.repeat(50)
    for (let maxBytes = 3; maxBytes < Buffer.byteLength(text); maxBytes++) {
      const cut = truncateUtf8(text, maxBytes)
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(maxBytes)
      expect(cut.endsWith('…')).toBe(true)
      expect(text.startsWith(cut.slice(0, -1))).toBe(true)
    }
  })
})
