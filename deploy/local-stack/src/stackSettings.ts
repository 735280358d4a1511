import { ConfigError } from '@audit-pipeline/config'
import { defaultRestartPolicy, type RestartPolicy } from './restartPolicy.js'

/**
 * The local Kafka cluster's sizes: one node (the default), or three KRaft nodes (each broker and
 * controller, a three-voter quorum) with replication factor 3 and min.insync.replicas 2, so one
 * broker can be down while every acks=all write still succeeds. Two nodes would lose the quorum
 * with either one, which is why they are not offered.
 */
export const kafkaClusterSizes = [1, 3] as const
export type KafkaClusterSize = (typeof kafkaClusterSizes)[number]

/** How the cluster replicates: every topic on every node up to 3, and writes need 2 of 3 replicas. */
export function replicationFor(size: KafkaClusterSize): {
  replicationFactor: number
  minInsyncReplicas: number
} {
  return size === 1
    ? { replicationFactor: 1, minInsyncReplicas: 1 }
    : { replicationFactor: 3, minInsyncReplicas: 2 }
}

function clusterSize(value: string, setting: string, source: string): KafkaClusterSize {
  const size = kafkaClusterSizes.find((n) => String(n) === value.trim())
  if (size === undefined) {
    throw new ConfigError(
      [
        {
          setting,
          message: `expected one of: ${kafkaClusterSizes.join(', ')} (got "${value}"); 3 runs a KRaft cluster with replication factor 3 and min.insync.replicas 2`,
        },
      ],
      source,
    )
  }
  return size
}

/**
 * The cluster size asked for: `--brokers` on the command line wins over AUDIT_STACK_BROKERS;
 * undefined when neither says (a new stack then has one node, and a running one of any size is
 * reused). Both are checked even when KAFKA_BROKERS names a cluster, so a typo never waits to
 * surface; `--brokers` beside KAFKA_BROKERS is refused, since no local cluster is started then.
 */
export function requestedClusterSize(env: NodeJS.ProcessEnv, flag?: string): KafkaClusterSize | undefined {
  const fromEnv =
    env['AUDIT_STACK_BROKERS'] === undefined || env['AUDIT_STACK_BROKERS'] === ''
      ? undefined
      : clusterSize(env['AUDIT_STACK_BROKERS'], 'AUDIT_STACK_BROKERS', 'environment')
  if (flag === undefined) return fromEnv
  const fromFlag = clusterSize(flag, '--brokers', 'command line')
  if (env['KAFKA_BROKERS']) {
    throw new ConfigError(
      [
        {
          setting: '--brokers',
          message: `asks for a local ${fromFlag}-broker cluster, but KAFKA_BROKERS names an existing one, which is used instead; drop one of them`,
        },
      ],
      'command line',
    )
  }
  return fromFlag
}

/** The restart policy of `npm start`'s supervisor: the defaults, with AUDIT_STACK_MAX_RESTARTS. */
export function restartPolicyFrom(env: NodeJS.ProcessEnv): RestartPolicy {
  const value = env['AUDIT_STACK_MAX_RESTARTS']
  if (value === undefined || value === '') return defaultRestartPolicy
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError([
      {
        setting: 'AUDIT_STACK_MAX_RESTARTS',
        message: `expected a whole number, e.g. 5: how many times in a row a process may exit within a minute of starting before npm start stops restarting it (got "${value}"; unset: never stop)`,
      },
    ])
  }
  return { ...defaultRestartPolicy, maxConsecutiveRestarts: Number(value) }
}
