/**
 * Confluent's wire format: a zero magic byte, the schema id as a 4-byte big-endian integer, then
 * the Avro binary body. Every Confluent-compatible client and registry reads it.
 */
export const wireHeaderBytes = 5

export function writeWireHeader(schemaId: number, body: Buffer): Buffer {
  const message = Buffer.allocUnsafe(wireHeaderBytes + body.length)
  message.writeUInt8(0, 0)
  message.writeInt32BE(schemaId, 1)
  body.copy(message, wireHeaderBytes)
  return message
}

export type WireMessage = { schemaId: number; body: Buffer }

/** Splits a message into schema id and body; undefined when it is not in the wire format. */
export function readWireHeader(message: Buffer): WireMessage | undefined {
  if (message.length < wireHeaderBytes || message.readUInt8(0) !== 0) return undefined
  return { schemaId: message.readInt32BE(1), body: message.subarray(wireHeaderBytes) }
}
