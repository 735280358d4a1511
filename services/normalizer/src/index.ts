// The normalizer as a library: its pure core (adapters, normalization, routing, the per-message
// pipeline) and the service, for tests, the bench and the local stack. The process is main.ts.
export * from './adapters/index.js'
export * from './normalize/index.js'
export * from './routing/index.js'
export { loadNormalizerConfig, normalizerOpsPort, type NormalizerConfig } from './config.js'
export { createNormalizer, type Normalizer, type NormalizerOptions } from './normalizer.js'
export { createNormalizerMetrics, type NormalizerMetrics } from './metrics.js'
export { createContentDigests, type ContentDigests } from './digests/contentDigests.js'
export { encodedEventDigest } from './digests/encodedEventDigest.js'
export { deadLetterClasses, type DeadLetterClass } from './pipeline/deadLetterClasses.js'
export { readRecord, type InputRecord, type RecordReading } from './pipeline/readRecord.js'
export { planRecord, routeHeader, temporalLevelHeader, type RecordPlan } from './pipeline/planRecord.js'
export {
  defaultLevelsPolicy,
  levelsOf,
  parseLevelsPolicy,
  type InformativeLevel,
  type LevelsPolicy,
  type LevelsRule,
  type LoggingLevels,
  type TemporalLevel,
} from './levels/levelsPolicy.js'
export { applyLoggingLevels } from './levels/applyLoggingLevels.js'
export {
  parseRedactionPolicy,
  type RedactionPolicy,
  type TenantRedaction,
  type TenantRedactionMethod,
} from './redaction/redactionPolicy.js'
export { applyRedactionPolicy } from './redaction/applyRedactionPolicy.js'
export { collapseChangesUnderSensitivePaths } from './redaction/collapseSensitiveChanges.js'
export { KeyStoreUnavailableError } from './redaction/keyStoreOutage.js'
export { openFieldKeyStore, type FieldKeySettings } from './redaction/openFieldKeyStore.js'
