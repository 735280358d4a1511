import kafkajs from 'kafkajs'

const { KafkaJSError, KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSSASLAuthenticationError } =
  kafkajs

/** Protocol errors with which the group coordinator refuses a commit from a member it moved on from. */
const refusedCommitTypes = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
])

/** The innermost cause kafkajs wrapped (retries exhausted wrap the last error). */
function rootOf(error: unknown): unknown {
  let current = error
  for (let depth = 0; depth < 8 && current instanceof Error && current.cause !== undefined; depth++)
    current = current.cause
  return current
}

/**
 * Whether a Kafka client error may pass by itself (a broker restarting, a leader moving, a
 * connection cut): kafkajs's own `retriable`, also when its retries ran out. Authentication
 * failures are not: waiting does not fix a password.
 */
export function isTransientKafkaError(error: unknown): boolean {
  if (!(error instanceof KafkaJSError)) return false
  const root = rootOf(error)
  if (root instanceof KafkaJSSASLAuthenticationError || error instanceof KafkaJSSASLAuthenticationError)
    return false
  if (error instanceof KafkaJSNumberOfRetriesExceeded) return true
  return error.retriable || (root instanceof KafkaJSError && root.retriable)
}

/** Whether a commit was refused because the group moved on (the partitions are someone else's now). */
export function isRefusedCommit(error: unknown): boolean {
  for (const candidate of [error, rootOf(error)]) {
    if (candidate instanceof KafkaJSProtocolError && refusedCommitTypes.has(candidate.type)) return true
  }
  return false
}
