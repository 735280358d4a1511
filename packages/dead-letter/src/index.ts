export {
  deadLetterHeaderNames,
  deadLetterHeaderPrefix,
  isDeadLetterHeader,
  maxErrorMessageBytes,
  replayedFromHeaderName,
  type DeadLetterHeaderName,
} from './deadLetterHeaders.js'
export {
  buildDeadLetter,
  readDeadLetter,
  withoutDeadLetterHeaders,
  type ConsumedMessage,
  type DeadLetter,
  type DeadLetterError,
  type DeadLetterInput,
  type DeadLetterLocation,
  type DeadLetterSealing,
  type DeadLetterSource,
  type EventIdConflict,
} from './deadLetterRecord.js'
export { DeadLetterFormatError } from './deadLetterFormatError.js'
export { replayMessageFor, replayedFrom } from './replayMessage.js'
export { hasFilter, matchesFilter, type DeadLetterFilter } from './deadLetterFilter.js'
export { defaultDeadLetterTopic, replayGroupIdFor } from './deadLetterTopic.js'
export { truncateUtf8 } from './truncateUtf8.js'
export {
  DeadLetterToolError,
  deadLetterToolErrorCodes,
  type DeadLetterToolErrorCode,
} from './deadLetterToolError.js'
export { listDeadLetters, type DeadLetterListing, type ListDeadLettersOptions } from './listDeadLetters.js'
export {
  replayDeadLetters,
  type RefusedDeadLetter,
  type ReplayDeadLettersOptions,
  type ReplayResult,
} from './replayDeadLetters.js'
export {
  deadLetterOpener,
  isSealed,
  openDeadLetter,
  sealDeadLetter,
  sealedErrorMessageText,
  sealedValueBytes,
  withSeal,
  type DeadLetterOpening,
  type DeadLetterOwner,
  type DeadLetterSeal,
  type SealedDeadLetter,
} from './sealedDeadLetter.js'
