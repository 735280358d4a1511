import { encodedEventDigest } from './encodedEventDigest.js'

/** Encoded events end to end in one transferred buffer, each ending where `ends` says. */
export type DigestTask = { bytes: Uint8Array; ends: number[] }

const digestOf = encodedEventDigest()

/** A worker thread's task (piscina): the content digests of a flush's events, in order. */
export default function digestAll({ bytes, ends }: DigestTask): string[] {
  const digests: string[] = []
  let start = 0
  for (const end of ends) {
    digests.push(digestOf(bytes.subarray(start, end)))
    start = end
  }
  return digests
}
