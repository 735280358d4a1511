// Reads the tamper-evident trail back from ClickHouse and checks it (packages/integrity holds the
// rules; this package brings the rows): verifyTrail, buildProof, readCheckpointTopic.
export { verifyTrail, type VerifyProgress, type VerifyTrailOptions } from './verifyTrail.js'
export { allFindings, type TrailReport, type TrailTotals } from './trailReport.js'
export type { ChainVerification } from './chainCheck.js'
export { planChain, type ChainPlan, type ChainPlanInput, type ChainStart } from './chainPlan.js'
export { buildProof, type BuildProofOptions } from './buildProof.js'
export { checkpointOfMessage, defaultCheckpointTopic, readCheckpointTopic } from './readCheckpointTopic.js'
export { rolledBackFindings } from './rolledBack.js'
export { VerificationError, verificationErrorCodes, type VerificationErrorCode } from './verificationError.js'
