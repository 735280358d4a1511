export * from './auditEvent.js'
export { EventInvalidError, type EventProblem } from './eventInvalidError.js'
export { parseEventJson, valueTypeOf, type AuditEventDraft } from './jsonForm.js'
export {
  assertEventAcceptable,
  defaultEventPolicy,
  eventProblems,
  uuidPattern,
  type EventPolicy,
} from './eventPolicy.js'
export { diffValues, type DiffOptions } from './diffValues.js'
export { applyChanges } from './diffApply.js'
export { snapshotJsonText } from './jsonValueSnapshot.js'
export { JsonValueError, jsonValueErrorCodes, type JsonValueErrorCode } from './jsonValueError.js'
export {
  eventNestingProblem,
  jsonNestingBeyond,
  maxEnvelopeNestingDepth,
  maxJsonNestingDepth,
} from './jsonNesting.js'
export { comparePaths, formatPath, parsePath, type PathSegment } from './jsonValuePath.js'
export { isSensitivePath } from './redactPath.js'
export { parsePathPatterns, type PathPatterns } from './jsonValuePathPatterns.js'
export { redactChanges } from './redactChanges.js'
export { redactSnapshot } from './redactSnapshot.js'
export { redactEvent, type RedactableEvent } from './redactEvent.js'
export {
  droppedValue,
  erasedValue,
  isRedactedValue,
  redactedHashPrefix,
  sealedValuePattern,
  type RedactionMethod,
} from './redactMethod.js'
export { parseJsonText } from './jsonValueParse.js'
export { JsonNumber, writeJsonText, type JsonTree } from './jsonValueTree.js'
export { alertEventForm, analystHideableFields, type AnalystHideableField } from './alertEvents.js'
export { partitionKeyFor } from './partitionKey.js'
export { reservedNamespaceOf, reservedNamespaces, type ReservedNamespace } from './reservedNamespaces.js'
