import type { ChainCheckInit, ChainVerification } from './chainCheck.js'
import type { EventDigests } from './eventDigests.js'

/**
 * The messages between verifyTrail and its worker threads. Bytes travel transferred, not copied;
 * a row's stored digests travel as one string (its digests joined by ',', '' for none).
 */
export type WorkerRequest =
  | { kind: 'digest'; id: number; bytes: Uint8Array }
  | { kind: 'open'; id: number; session: number; init: ChainCheckInit }
  | { kind: 'page'; id: number; session: number; bytes: Uint8Array; digests: string[] }
  | { kind: 'finish'; id: number; session: number }

export type WorkerResponse =
  | { id: number; ok: true; digests?: EventDigests; verification?: ChainVerification }
  | { id: number; ok: false; error: string; stack?: string }

export function encodeDigests(digests: readonly (readonly string[] | undefined)[]): string[] {
  return digests.map((stored) => (stored === undefined ? '' : stored.join(',')))
}

export function decodeDigests(encoded: readonly string[]): (readonly string[] | undefined)[] {
  return encoded.map((stored) => (stored === '' ? undefined : stored.split(',')))
}
