import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { requestedClusterSize, startStack } from '@audit-pipeline/local-stack'
import type { StackEndpoints } from '@audit-pipeline/testing'

/**
 * Starts the infrastructure once for the whole integration run.
 * - Parts given by the environment (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, CLICKHOUSE_URL) are used
 *   as they are.
 * - AUDIT_TEST_INFRA=containers: the rest runs in containers (needs a Docker engine).
 * - Otherwise: the local stack, in a folder of its own so it never touches a developer's
 *   `npm run stack`, owned by this process (if the run is killed, its watchdog stops it).
 *   AUDIT_STACK_BROKERS=3 makes its Kafka a three-node cluster (replication factor 3,
 *   min.insync.replicas 2); a test breaks it on purpose with
 *   `kafkaClusterControl(inject('stackStateDir'))` from @audit-pipeline/local-stack.
 */
export default async function setup(project: TestProject) {
  const stateDir = mkdtempSync(join(tmpdir(), 'audit-test-stack-'))
  project.provide('stackStateDir', stateDir)

  // Checked first, so a bad value fails the run before anything starts.
  const brokers = requestedClusterSize(process.env)
  if (process.env['AUDIT_TEST_INFRA'] === 'containers') {
    if (brokers !== undefined && brokers !== 1) {
      throw new Error(
        `AUDIT_STACK_BROKERS=${brokers} needs the local stack; AUDIT_TEST_INFRA=containers runs one Kafka broker: unset one of them`,
      )
    }
    const { startContainers } = await import('./containers.js')
    const containers = await startContainers()
    project.provide('stack', containers.endpoints)
    return async () => {
      await containers.stop()
      rmSync(stateDir, { recursive: true, force: true })
    }
  }

  const stack = await startStack({
    env: process.env,
    stateDir,
    ownerPid: process.pid,
    log: (line) => console.log(`[local stack] ${line}`),
  })
  const nodes = stack.state.kafka.nodes?.length
  console.log(
    `[local stack] ready in ${stack.startSeconds.toFixed(1)} s (${stateDir}${nodes ? `, ${nodes} Kafka node${nodes === 1 ? '' : 's'}` : ''})`,
  )
  const endpoints: StackEndpoints = {
    kafkaBrokers: stack.state.kafka.brokers,
    schemaRegistryUrl: stack.state.schemaRegistry.url,
    ...(stack.state.clickhouse.kind === 'http' && { clickhouseUrl: stack.state.clickhouse.url }),
  }
  project.provide('stack', endpoints)
  return async () => {
    await stack.stop()
    rmSync(stateDir, { recursive: true, force: true })
  }
}
