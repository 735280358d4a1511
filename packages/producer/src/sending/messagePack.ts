import type { Outgoing } from './outgoing.js'

/**
 * A batch of outgoing events as one ArrayBuffer, to be transferred (not copied) to the sending
 * thread: per event, the key, the value and the event id, each a 32-bit length and its bytes.
 * One buffer instead of an array of objects: a transfer costs nothing, a structured clone of
 * thousands of objects costs as much as the sending it is meant to save.
 */
export function packOutgoing(batch: readonly Outgoing[]): ArrayBuffer {
  // Strings are measured, then written in place: no buffer per key or id.
  let size = 0
  for (const message of batch) {
    size += 12 + Buffer.byteLength(message.key, 'utf8') + message.value.length
    size += Buffer.byteLength(message.eventId, 'utf8')
  }
  const packed = new ArrayBuffer(size)
  const bytes = Buffer.from(packed)
  let at = 0
  const putText = (text: string) => {
    const length = bytes.write(text, at + 4, 'utf8')
    bytes.writeUInt32LE(length, at)
    at += 4 + length
  }
  for (const message of batch) {
    putText(message.key)
    bytes.writeUInt32LE(message.value.length, at)
    bytes.set(message.value, at + 4)
    at += 4 + message.value.length
    putText(message.eventId)
  }
  return packed
}

/** The events of a packed batch, in order; values are views into the buffer, not copies. */
export function unpackOutgoing(packed: ArrayBuffer): Outgoing[] {
  const bytes = Buffer.from(packed)
  const batch: Outgoing[] = []
  let at = 0
  const take = (): Buffer => {
    if (at + 4 > bytes.length) throw new RangeError(`packed batch cut short at byte ${at}`)
    const length = bytes.readUInt32LE(at)
    const end = at + 4 + length
    if (end > bytes.length) throw new RangeError(`packed batch cut short at byte ${at}`)
    const part = bytes.subarray(at + 4, end)
    at = end
    return part
  }
  while (at < bytes.length) {
    const key = take().toString('utf8')
    const value = take()
    const eventId = take().toString('utf8')
    batch.push({ key, value, eventId })
  }
  return batch
}
