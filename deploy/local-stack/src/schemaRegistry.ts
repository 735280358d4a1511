import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from './freePort.js'
import { fetchOnceWithMaven } from './mavenFetch.js'
import { deployDir } from './paths.js'
import { launch, stopProcess, type LaunchedProcess } from './processes.js'
import { waitUntilReady } from './waitUntilReady.js'

/** The Apicurio Registry release the local stack runs; override with AUDIT_APICURIO_VERSION. */
export const defaultApicurioVersion = '3.3.3'

/** Apicurio's Confluent-compatible API, the one @kafkajs/confluent-schema-registry speaks. */
export const confluentCompatPath = '/apis/ccompat/v7'

export type SchemaRegistryOptions = {
  java: string
  version: string
  cacheDir: string
  dir: string
  marker: string
}

export type RunningSchemaRegistry = LaunchedProcess & { url: string; version: string }

/** Fetches (once) and unpacks Apicurio's runnable Quarkus fast-jar (the `all` assembly). */
export async function fetchApicurio(options: Pick<SchemaRegistryOptions, 'version' | 'cacheDir'>) {
  return fetchOnceWithMaven({
    what: `Apicurio Registry ${options.version}`,
    targetDir: join(options.cacheDir, `apicurio-registry-${options.version}`),
    mavenArgs: [
      '-f',
      join(deployDir, 'schema-registry/pom.xml'),
      `-Dapicurio.version=${options.version}`,
      'dependency:unpack',
      '-DoutputDirectory={dir}',
    ],
  })
}

/** Apicurio Registry 3.x is built for Java 21 (class file 65). */
export const apicurioMinJavaMajor = 21

/**
 * Starts Apicurio with 3.x's SQL storage on an H2 database file in `dir` (emptied with Kafka at
 * each new stack), HTTP on 127.0.0.1 only. A file rather than H2's in-memory mode so the registry
 * can be restarted (by `npm start`'s supervisor, or a test) without losing its schemas: ids it gave
 * out earlier are in Kafka's messages, and a registry that handed them out again for other schemas
 * would make consumers decode with the wrong schema. Its management interface (health, metrics) is
 * compiled in and cannot be turned off at run time, so it gets a second loopback port rather than
 * its default 0.0.0.0:9000.
 */
export async function startSchemaRegistry(options: SchemaRegistryOptions): Promise<RunningSchemaRegistry> {
  const { dir: appDir } = await fetchApicurio(options)
  mkdirSync(options.dir, { recursive: true })
  const [port, managementPort] = [await freePort(), await freePort()]
  const logFile = join(options.dir, 'registry.out')
  const processInfo = launch(
    options.java,
    [
      '-Xms64m',
      '-Xmx512m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-XX:-UsePerfData',
      '-Djava.awt.headless=true',
      `-Daudit.stack=${options.marker}`,
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${port}`,
      '-Dquarkus.management.host=127.0.0.1',
      `-Dquarkus.management.port=${managementPort}`,
      '-Dapicurio.storage.kind=sql',
      '-Dapicurio.storage.sql.kind=h2',
      `-Dapicurio.datasource.url=jdbc:h2:file:${join(options.dir, 'data', 'registry')}`,
      // Confluent's default; Apicurio's own is NONE, which would accept any change.
      '-Dapicurio.rules.global.compatibility=BACKWARD',
      '-Dquarkus.log.level=WARN',
      '-Dquarkus.log.category."io.quarkus.config".level=ERROR',
      '-Dquarkus.log.category."io.quarkus.runtime.configuration".level=ERROR',
      '-Dquarkus.log.category."io.apicurio.registry.metrics.health".level=ERROR',
      '-Dquarkus.http.access-log.enabled=false',
      '-Dquarkus.banner.enabled=false',
      '-Dquarkus.otel.sdk.disabled=true',
      '-jar',
      join(appDir, 'quarkus-run.jar'),
    ],
    { cwd: options.dir, logFile },
  )
  const base = `http://127.0.0.1:${port}`
  try {
    await waitUntilReady({
      what: `Apicurio Registry on ${base}`,
      pid: processInfo.pid,
      logFile,
      timeoutMs: 90_000,
      probe: () => registryAnswers(`${base}${confluentCompatPath}`),
    })
  } catch (error) {
    // Not ready in time: it may still be running, and nothing else knows its PID yet.
    await stopProcess(processInfo.pid)
    throw error
  }
  return { ...processInfo, url: `${base}${confluentCompatPath}`, version: options.version }
}

/** Ready means the Confluent-compatible API answers a real request. */
export async function registryAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) })
    return response.ok
  } catch {
    return false
  }
}
