import { KafkaContainer } from '@testcontainers/kafka'
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers'
import type { StackEndpoints } from '@audit-pipeline/testing'

/** Images for AUDIT_TEST_INFRA=containers; the same products as the local stack and docker-compose.yml. */
const images = {
  kafka: 'confluentinc/cp-kafka:7.9.1',
  schemaRegistry: 'apicurio/apicurio-registry:3.3.3',
  clickhouse: 'clickhouse/clickhouse-server:25.8',
} as const

/**
 * The integration run's infrastructure as containers, for machines with a Docker engine
 * (AUDIT_TEST_INFRA=containers). Testcontainers' reaper removes them if the run is killed.
 */
export async function startContainers(): Promise<{ endpoints: StackEndpoints; stop(): Promise<void> }> {
  try {
    await getContainerRuntimeClient()
  } catch (error) {
    throw new Error(
      `AUDIT_TEST_INFRA=containers needs a reachable Docker engine, and none answered (${(error as Error).message}); unset AUDIT_TEST_INFRA to run the local stack instead`,
      { cause: error },
    )
  }
  const started: StartedTestContainer[] = []
  try {
    const [kafka, registry, clickhouse] = await Promise.all([
      new KafkaContainer(images.kafka).withKraft().start(),
      new GenericContainer(images.schemaRegistry)
        .withExposedPorts(8080)
        .withEnvironment({ APICURIO_RULES_GLOBAL_COMPATIBILITY: 'BACKWARD' })
        .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080).forStatusCode(200))
        .start(),
      new GenericContainer(images.clickhouse)
        .withExposedPorts(8123)
        // The default user without a password, reachable from the host (the image's default
        // restricts it to the container's own loopback).
        .withEnvironment({ CLICKHOUSE_SKIP_USER_SETUP: '1' })
        .withWaitStrategy(Wait.forHttp('/ping', 8123).forStatusCode(200))
        .start(),
    ])
    started.push(kafka, registry, clickhouse)
    const at = (container: StartedTestContainer, port: number) =>
      `${container.getHost()}:${container.getMappedPort(port)}`
    return {
      endpoints: {
        kafkaBrokers: [at(kafka, 9093)],
        schemaRegistryUrl: `http://${at(registry, 8080)}/apis/ccompat/v7`,
        clickhouseUrl: `http://${at(clickhouse, 8123)}`,
      },
      stop: async () => {
        await Promise.all(started.map((container) => container.stop()))
      },
    }
  } catch (error) {
    await Promise.allSettled(started.map((container) => container.stop()))
    throw error
  }
}
