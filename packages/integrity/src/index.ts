// The tamper-evident audit trail's pure logic: the canonical form and content digest of an event,
// the per-(tenant, chain) hash chain, RFC 6962 Merkle trees, Ed25519-signed checkpoints, inclusion
// proofs and the chain verification engine. No Kafka, no ClickHouse: callers bring the rows.
export { canonicalJson, wellFormed } from './canonicalJson.js'
export { canonicalEvent, canonicalEventJson, eventForm } from './canonicalForm.js'
export { contentDigest } from './contentDigest.js'
export {
  appendToChain,
  entryForm,
  entryHash,
  entryHashBytes,
  entryLeafBytes,
  genesisHead,
  zeroHash,
  type ChainEntry,
  type ChainHead,
} from './chainEntry.js'
export { inclusionProof, leafHash, merkleRoot, nodeHash, verifyInclusion } from './merkleTree.js'
export { IntegrityKeyError } from './integrityKeyError.js'
export {
  generateSigningKeyPem,
  keyIdOf,
  parsePublicKeys,
  parseSigningKey,
  publicKeysDocument,
  readSigningKey,
  type PublicKeySet,
  type PublicKeysDocument,
  type SigningKey,
} from './signingKeys.js'
export {
  buildCheckpoint,
  checkpointBody,
  checkpointForm,
  checkpointHash,
  verifyCheckpointSignature,
  type CheckpointBody,
  type SignedCheckpoint,
} from './checkpoint.js'
export { signedCheckpointOfJson } from './signedCheckpointJson.js'
export {
  buildInclusionProof,
  proofForm,
  verifyInclusionProof,
  type InclusionProofDocument,
  type ProofVerdict,
} from './inclusionProof.js'
export {
  createChainVerifier,
  findingKinds,
  insertedEventFinding,
  rolledBackFinding,
  type ChainReport,
  type ChainVerifier,
  type ChainVerifierOptions,
  type Finding,
  type FindingKind,
  type StoredEntry,
  type VerifiedItem,
} from './verifyChain.js'
