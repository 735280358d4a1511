export {
  createAuditEventCodec,
  defaultMaxEventBytes,
  type AuditEventCodec,
  type AuditEventCodecOptions,
} from './auditEventCodec.js'
export { CodecError, codecErrorCodes, type CodecErrorCode } from './codecError.js'
export { readWireHeader, writeWireHeader, wireHeaderBytes, type WireMessage } from './wireFormat.js'
export { schemaRegistryClient } from './schemaRegistryClient.js'
