import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { freePort } from './freePort.js'
import { fetchOnceWithMaven } from './mavenFetch.js'
import { deployDir } from './paths.js'
import { launch, type LaunchedProcess } from './processes.js'
import { waitUntilReady } from './waitUntilReady.js'

const run = promisify(execFile)

/** The Kafka release the local stack runs; override with AUDIT_KAFKA_VERSION. */
export const defaultKafkaVersion = '4.4.0'

export type KafkaBrokerOptions = {
  java: string
  version: string
  cacheDir: string
  /** This broker's folder: config, data and log. */
  dir: string
  /** Marks the command line so stop/status can tell our process from a reused PID. */
  marker: string
}

export type RunningKafka = LaunchedProcess & { brokers: string[]; version: string }

/** Fetches (once) the broker's jars: kafka_2.13 and its runtime dependencies. */
export async function fetchKafka(options: Pick<KafkaBrokerOptions, 'version' | 'cacheDir'>) {
  return fetchOnceWithMaven({
    what: `Apache Kafka ${options.version}`,
    targetDir: join(options.cacheDir, `kafka-${options.version}`),
    mavenArgs: [
      '-f',
      join(deployDir, 'kafka/pom.xml'),
      `-Dkafka.version=${options.version}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      '-DoutputDirectory={dir}/lib',
    ],
  })
}

/** server.properties for one KRaft node that is both broker and controller, on 127.0.0.1. */
export function brokerProperties(
  template: string,
  values: { kafkaPort: number; controllerPort: number; dataDir: string },
): string {
  return template
    .replaceAll('${KAFKA_PORT}', String(values.kafkaPort))
    .replaceAll('${CONTROLLER_PORT}', String(values.controllerPort))
    .replaceAll('${LOG_DIR}', values.dataDir)
}

/**
 * KRaft wants a cluster id that is a base64url UUID: 16 random bytes are exactly that. Like
 * Kafka's own Uuid.randomUuid, never one starting with '-', which the storage tool's argument
 * parser would take for an option.
 */
export function newClusterId(random: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = random().toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/**
 * Formats fresh storage and starts the broker. The local stack's Kafka starts empty each time:
 * the schema registry keeps schemas in memory, and Avro messages that outlive their schema ids
 * could not be decoded.
 */
export async function startKafka(options: KafkaBrokerOptions): Promise<RunningKafka> {
  const { dir: libDir } = await fetchKafka(options)
  const classpath = `${libDir}/lib/*`
  const dataDir = join(options.dir, 'data')
  mkdirSync(dataDir, { recursive: true })

  const [kafkaPort, controllerPort] = [await freePort(), await freePort()]
  const propertiesFile = join(options.dir, 'server.properties')
  writeFileSync(
    propertiesFile,
    brokerProperties(readFileSync(join(deployDir, 'kafka/server.properties.template'), 'utf8'), {
      kafkaPort,
      controllerPort,
      dataDir,
    }),
  )
  const jvmFlags = [
    '-Xms256m',
    '-Xmx1g',
    '-XX:+UseG1GC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(deployDir, 'kafka/log4j2.yaml')}`,
    `-Dkafka.logs.dir=${options.dir}`,
    `-Daudit.stack=${options.marker}`,
  ]
  try {
    await run(options.java, [
      ...jvmFlags,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '--ignore-formatted',
      '-t',
      newClusterId(),
      '-c',
      propertiesFile,
    ])
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string }
    throw new Error(
      `could not format Kafka storage in ${dataDir}:\n${failure.stderr ?? ''}${failure.stdout ?? ''}`,
    )
  }

  const logFile = join(options.dir, 'broker.out')
  const processInfo = launch(options.java, [...jvmFlags, '-cp', classpath, 'kafka.Kafka', propertiesFile], {
    cwd: options.dir,
    logFile,
  })
  const brokers = [`127.0.0.1:${kafkaPort}`]
  await waitUntilReady({
    what: `Kafka on ${brokers[0]}`,
    pid: processInfo.pid,
    logFile,
    timeoutMs: 90_000,
    probe: () => kafkaAnswers(brokers),
  })
  return { ...processInfo, brokers, version: options.version }
}

/** Ready means a client can connect and read cluster metadata, not merely that a port is open. */
export async function kafkaAnswers(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'audit-stack-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1_000,
  }).admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    return cluster.brokers.length > 0 && cluster.controller !== null
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}
