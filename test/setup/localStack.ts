import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { startStack } from '@audit-pipeline/local-stack'
import type { StackEndpoints } from '../support/stackEndpoints.js'

/**
 * Starts one local stack for the whole integration run, in a folder of its own so it never
 * touches a developer's `npm run stack`. Parts given by the environment (KAFKA_BROKERS,
 * SCHEMA_REGISTRY_URL, CLICKHOUSE_URL) are used instead of started. The stack is owned by this
 * process: if the run is killed, the stack's watchdog stops it.
 */
export default async function setup(project: TestProject) {
  const stateDir = mkdtempSync(join(tmpdir(), 'audit-test-stack-'))
  const stack = await startStack({
    env: process.env,
    stateDir,
    ownerPid: process.pid,
    log: (line) => console.log(`[local stack] ${line}`),
  })
  console.log(`[local stack] ready in ${stack.startSeconds.toFixed(1)} s (${stateDir})`)
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
