import type { ClickHouseSettings } from '@clickhouse/client'

/**
 * Settings pinned for every statement on both transports, so that results depend neither on the
 * server's version and configuration nor on the host embedded ClickHouse runs on.
 */
export const sessionSettings = {
  // 64-bit integers as JSON strings. As numbers, JSON.parse rounds anything past 2^53; chDB 3.4
  // (ClickHouse 26.7) prints them as numbers by default, and servers may be configured either way.
  output_format_json_quote_64bit_integers: 1,
  // chDB otherwise takes the host's TZ, so DateTime text would name a different instant on a
  // laptop than on a UTC server.
  session_timezone: 'UTC',
  // Accepts JSON.stringify(date) (`2024-01-02T03:04:05.678Z`) as well as `2024-01-02 03:04:05.678`.
  // chDB's default; pinned so a server configured for 'basic' behaves the same.
  date_time_input_format: 'best_effort',
} as const satisfies ClickHouseSettings
