/** Event counts per time bucket (bucket start → count): rates over long windows in bounded memory. */
export type BucketCounts = Record<string, number>

export function addToBucket(buckets: BucketCounts, timeMs: number, bucketMs: number): void {
  const start = String(Math.floor(timeMs / bucketMs) * bucketMs)
  buckets[start] = (buckets[start] ?? 0) + 1
}

/** Events in buckets starting in [fromMs, toMs). */
export function countBetween(buckets: BucketCounts, fromMs: number, toMs: number): number {
  let total = 0
  for (const [start, count] of Object.entries(buckets)) {
    const startMs = Number(start)
    if (startMs >= fromMs && startMs < toMs) total += count
  }
  return total
}

/** Forgets buckets that end before `beforeMs`. */
export function dropBucketsBefore(buckets: BucketCounts, beforeMs: number, bucketMs: number): void {
  for (const start of Object.keys(buckets)) {
    if (Number(start) + bucketMs <= beforeMs) delete buckets[start]
  }
}

/** A tenth of the window: counts are exact to within one bucket at the window's edges. */
export function bucketMsFor(windowMs: number): number {
  return Math.max(1, Math.floor(windowMs / 10))
}
