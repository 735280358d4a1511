import { describe, expect, it } from 'vitest'
import { fromDateTime64Text, toDateTime64Text } from './dateTime64.js'

describe('DateTime64 text', () => {
  it.each(['2024-02-29T23:59:59.999Z', '1970-01-01T00:00:00.001Z', '2024-01-02T03:04:05.000Z'])(
    'round-trips %s to the millisecond',
    (iso) => {
      const date = new Date(iso)
      const text = toDateTime64Text(date)
      expect(text).toBe(iso.replace('T', ' ').replace('Z', ''))
      expect(fromDateTime64Text(text).getTime()).toBe(date.getTime())
    },
  )

  it('reads any precision ClickHouse prints, keeping milliseconds', () => {
    expect(fromDateTime64Text('2024-01-02 03:04:05').toISOString()).toBe('2024-01-02T03:04:05.000Z')
    expect(fromDateTime64Text('2024-01-02 03:04:05.6').toISOString()).toBe('2024-01-02T03:04:05.600Z')
    expect(fromDateTime64Text('2024-01-02 03:04:05.123456789').toISOString()).toBe('2024-01-02T03:04:05.123Z')
  })

  it('refuses what is not DateTime64 text', () => {
    for (const text of ['2024-01-02T03:04:05.000Z', '2024-13-02 03:04:05', 'yesterday']) {
      expect(() => fromDateTime64Text(text)).toThrow(RangeError)
    }
    expect(() => toDateTime64Text(new Date(Number.NaN))).toThrow(RangeError)
  })
})
