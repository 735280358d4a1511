import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { freePort } from './freePort.js'
import { fetchOnceWithMaven } from './mavenFetch.js'
import { deployDir } from './paths.js'
import { launch, stopProcess, type LaunchedProcess } from './processes.js'
import { replicationFor, type KafkaClusterSize } from './stackSettings.js'
import { waitUntilReady } from './waitUntilReady.js'

const run = promisify(execFile)

/** The Kafka release the local stack runs; override with AUDIT_KAFKA_VERSION. */
export const defaultKafkaVersion = '4.4.0'

export type KafkaClusterOptions = {
  java: string
  version: string
  cacheDir: string
  /** The cluster's folder: one `node-<id>` folder per node (config, data and logs). */
  dir: string
  /** Marks the command lines so stop/status can tell our processes from reused PIDs. */
  marker: string
  /** How many nodes; 1 unless asked (stackSettings.ts). */
  size: KafkaClusterSize
}

/** One node as started: its process, its id and its client listener. */
export type RunningKafkaNode = LaunchedProcess & { id: number; listener: string }

export type RunningKafka = { brokers: string[]; version: string; nodes: RunningKafkaNode[] }

/** Fetches (once) the broker's jars: kafka_2.13 and its runtime dependencies. */
export async function fetchKafka(options: Pick<KafkaClusterOptions, 'version' | 'cacheDir'>) {
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

export type NodeProperties = {
  nodeId: number
  kafkaPort: number
  controllerPort: number
  dataDir: string
  /** Every node's controller, `1@127.0.0.1:<port>,…` (quorumVoters). */
  quorumVoters: string
  replicationFactor: number
  minInsyncReplicas: number
}

/**
 * server.properties for one KRaft node (broker and controller) on 127.0.0.1, from
 * deploy/kafka/server.properties.template. Throws naming any placeholder left unfilled, so a
 * template and this function cannot drift apart silently.
 */
export function brokerProperties(template: string, values: NodeProperties): string {
  const filled = template
    .replaceAll('${NODE_ID}', String(values.nodeId))
    .replaceAll('${QUORUM_VOTERS}', values.quorumVoters)
    .replaceAll('${KAFKA_PORT}', String(values.kafkaPort))
    .replaceAll('${CONTROLLER_PORT}', String(values.controllerPort))
    .replaceAll('${LOG_DIR}', values.dataDir)
    .replaceAll('${REPLICATION_FACTOR}', String(values.replicationFactor))
    .replaceAll('${MIN_INSYNC_REPLICAS}', String(values.minInsyncReplicas))
  const left = filled
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .flatMap((line) => line.match(/\$\{\w+\}/g) ?? [])
  if (left.length > 0) {
    throw new Error(
      `deploy/kafka/server.properties.template has placeholders nothing fills: ${[...new Set(left)].join(', ')}`,
    )
  }
  return filled
}

/** The static KRaft quorum: every node is a voter, at its controller port. */
export function quorumVoters(nodes: readonly { id: number; controllerPort: number }[]): string {
  return nodes.map((node) => `${node.id}@127.0.0.1:${node.controllerPort}`).join(',')
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
 * Formats fresh storage for every node and starts them, each on its own free loopback ports, and
 * waits until each serves metadata naming itself. The local stack's Kafka starts empty each time:
 * the schema registry's storage is emptied with it, and Avro messages that outlived their schema
 * ids could not be decoded. A node started again later (a restart by the supervisor or by a test)
 * keeps its data: only a new stack formats.
 */
export async function startKafkaCluster(options: KafkaClusterOptions): Promise<RunningKafka> {
  const { dir: libDir } = await fetchKafka(options)
  const classpath = `${libDir}/lib/*`
  const template = readFileSync(join(deployDir, 'kafka/server.properties.template'), 'utf8')
  const layout: { id: number; kafkaPort: number; controllerPort: number; dir: string }[] = []
  for (let id = 1; id <= options.size; id++) {
    layout.push({
      id,
      kafkaPort: await freePort(),
      controllerPort: await freePort(),
      dir: join(options.dir, `node-${id}`),
    })
  }
  const voters = quorumVoters(layout)
  const clusterId = newClusterId()
  const jvmFlags = (nodeDir: string) => [
    '-Xms256m',
    '-Xmx1g',
    '-XX:+UseG1GC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(deployDir, 'kafka/log4j2.yaml')}`,
    `-Dkafka.logs.dir=${nodeDir}`,
    `-Daudit.stack=${options.marker}`,
  ]

  const propertiesFiles = layout.map((node) => {
    const dataDir = join(node.dir, 'data')
    mkdirSync(dataDir, { recursive: true })
    const file = join(node.dir, 'server.properties')
    writeFileSync(
      file,
      brokerProperties(template, {
        nodeId: node.id,
        kafkaPort: node.kafkaPort,
        controllerPort: node.controllerPort,
        dataDir,
        quorumVoters: voters,
        ...replicationFor(options.size),
      }),
    )
    return file
  })
  await Promise.all(
    layout.map(async (node, i) => {
      try {
        await run(options.java, [
          ...jvmFlags(node.dir),
          '-cp',
          classpath,
          'kafka.tools.StorageTool',
          'format',
          '--ignore-formatted',
          '-t',
          clusterId,
          '-c',
          propertiesFiles[i]!,
        ])
      } catch (error) {
        const failure = error as { stdout?: string; stderr?: string }
        throw new Error(
          `could not format Kafka storage in ${join(node.dir, 'data')}:\n${failure.stderr ?? ''}${failure.stdout ?? ''}`,
        )
      }
    }),
  )

  // All at once: a node of a three-voter quorum waits for a second one before it can serve.
  const nodes: RunningKafkaNode[] = layout.map((node, i) => ({
    ...launch(options.java, [...jvmFlags(node.dir), '-cp', classpath, 'kafka.Kafka', propertiesFiles[i]!], {
      cwd: node.dir,
      logFile: join(node.dir, 'broker.out'),
    }),
    id: node.id,
    listener: `127.0.0.1:${node.kafkaPort}`,
  }))
  try {
    await Promise.all(nodes.map((node) => waitForKafkaNode(node, 90_000)))
  } catch (error) {
    await stopKafkaNodes(nodes.map((node) => node.pid))
    throw error
  }
  return { brokers: nodes.map((node) => node.listener), version: options.version, nodes }
}

/** Waits until `node` serves cluster metadata that lists it, failing fast with its log if it exits. */
export function waitForKafkaNode(
  node: { id: number; pid: number; listener: string; logFile: string },
  timeoutMs: number,
): Promise<void> {
  return waitUntilReady({
    what: `Kafka node ${node.id} on ${node.listener}`,
    pid: node.pid,
    logFile: node.logFile,
    timeoutMs,
    probe: () => kafkaNodeAnswers(node.listener, node.id),
  })
}

/**
 * Ready means a client connected to this node alone reads cluster metadata in which the node is a
 * registered broker and a controller is elected, not merely that a port is open.
 */
export async function kafkaNodeAnswers(listener: string, nodeId: number): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'audit-stack-probe',
    brokers: [listener],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1_000,
  }).admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    return cluster.controller !== null && cluster.brokers.some((broker) => broker.nodeId === nodeId)
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/**
 * Stops the nodes of one cluster together. One at a time, the last would find no quorum left to
 * hand its partitions to and wait out its controlled-shutdown timeout; together, each finds the
 * others leaving. The data is discarded with the stack, so the 10 s before SIGKILL cost nothing.
 */
export async function stopKafkaNodes(pids: readonly number[]) {
  return Promise.all(pids.map((pid) => stopProcess(pid, pids.length > 1 ? 10_000 : 20_000)))
}
