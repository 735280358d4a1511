import { asRecorded, type ChainCheckInit, type ChainVerification, type RowDigests } from './chainCheck.js'
import type { EventDigests } from './eventDigests.js'

/**
 * The messages between verifyTrail and its worker threads. Bytes travel transferred, not copied;
 * a row's stored digests travel as one string (its digests joined by ',', '' for none, '=' for
 * asRecorded).
 */
export type WorkerRequest =
  | { kind: 'digest'; id: number; bytes: Uint8Array }
  | { kind: 'open'; id: number; session: number; init: ChainCheckInit }
  | { kind: 'page'; id: number; session: number; bytes: Uint8Array; digests: string[] | null }
  | { kind: 'finish'; id: number; session: number }

export type WorkerResponse =
  | { id: number; ok: true; digests?: EventDigests; verification?: ChainVerification }
  | { id: number; ok: false; error: string; stack?: string }

export function encodeDigests(digests: RowDigests | null): string[] | null {
  return (
    digests?.map((stored) =>
      stored === undefined ? '' : stored === asRecorded ? recordedMark : stored.join(','),
    ) ?? null
  )
}

export function decodeDigests(encoded: readonly string[] | null): RowDigests | null {
  return (
    encoded?.map((stored) =>
      stored === '' ? undefined : stored === recordedMark ? asRecorded : stored.split(','),
    ) ?? null
  )
}

const recordedMark = '='
