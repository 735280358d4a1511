export {
  blindIndex,
  openSealedBytes,
  openSealedValue,
  sealBytes,
  sealedBytesLength,
  parseSealedValue,
  sealValue,
  type DataKey,
  type SealContext,
} from './sealedValue.js'
export { KeyStoreError, type Erasure, type KeyLookup, type KeyStore } from './keyStore.js'
export {
  openLocalKeyStore,
  parseKeyEncryptionKey,
  readKeyEncryptionKeyFile,
  subjectDigest,
  writeKeyEncryptionKeyFile,
  type LocalKeyStoreOptions,
} from './localKeyStore.js'
export { parseSubjectRule, subjectOf, subjectRuleForms, type SubjectRule } from './subjectRule.js'
export { sealEvent } from './sealEvent.js'
export {
  hideSealedValues,
  holdsSealedValues,
  openEvents,
  unreadableValue,
  type SealedParts,
} from './openEvent.js'
