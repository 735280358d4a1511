import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { defaultCacheDir, fetchOnceWithMaven } from '@audit-pipeline/local-stack'
import {
  parseConsumerPerformance,
  parseProducerPerformance,
  type ConsumerPerfSummary,
  type ProducerPerfResult,
} from './kafkaPerfOutput.js'

const run = promisify(execFile)

/** deploy/kafka: the tools' pom and logging configuration (this file is bench/{src,dist}/kafkaPerfTools.*). */
const kafkaDeployDir = fileURLToPath(new URL('../../deploy/kafka/', import.meta.url))

/** Kafka's own tools, ready to run: the JDK and the classpath. */
export type KafkaTools = { java: string; classpath: string; version: string }

/**
 * Fetches (once per machine, like the broker's jars) `org.apache.kafka:kafka-tools` at the broker's
 * version with Maven (deploy/kafka/tools-pom.xml), into the stack's download cache.
 */
export async function fetchKafkaTools(options: {
  java: string
  version: string
  env: NodeJS.ProcessEnv
}): Promise<KafkaTools & { fetched: boolean }> {
  const { dir, fetched } = await fetchOnceWithMaven({
    what: `Kafka's tools ${options.version} (org.apache.kafka:kafka-tools)`,
    targetDir: join(defaultCacheDir(options.env), `kafka-tools-${options.version}`),
    mavenArgs: [
      '-f',
      join(kafkaDeployDir, 'tools-pom.xml'),
      `-Dkafka.version=${options.version}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      '-DoutputDirectory={dir}/lib',
    ],
  })
  return { java: options.java, classpath: `${dir}/lib/*`, version: options.version, fetched }
}

/**
 * `bin/kafka-producer-perf-test.sh`'s way of running ProducerPerformance: kafka-run-class.sh's
 * JVM settings and the script's 512 MiB heap.
 */
function jvmFlags(): string[] {
  return [
    '-Xmx512m',
    '-server',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(kafkaDeployDir, 'tools-log4j2.properties')}`,
  ]
}

async function runTool(
  tools: KafkaTools,
  mainClass: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  const command = [tools.java, ...jvmFlags(), '-cp', tools.classpath, mainClass, ...args]
  try {
    return await run(command[0]!, command.slice(1), {
      maxBuffer: 16 * 1024 * 1024,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    })
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message: string }
    const tail = `${output.stdout ?? ''}${output.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n')
    throw new Error(`${mainClass} failed (${output.message.split('\n')[0]}):\n${tail}`, { cause: error })
  }
}

/**
 * ProducerPerformance at full speed (`--throughput -1`) with acks=all: `records` records of
 * `recordSize` bytes, keyed over `keys` keys (round robin) or unkeyed. Throws when it sent fewer
 * than asked, with what it printed.
 */
export async function producerPerformance(
  tools: KafkaTools,
  options: { brokers: string[]; topic: string; records: number; recordSize: number; keys?: number },
): Promise<ProducerPerfResult> {
  const keyed =
    options.keys === undefined
      ? []
      : ['--key-distribution', 'range', '--record-key-range', String(options.keys)]
  const { stdout, stderr } = await runTool(
    tools,
    'org.apache.kafka.tools.ProducerPerformance',
    [
      '--bootstrap-server',
      options.brokers.join(','),
      '--topic',
      options.topic,
      '--num-records',
      String(options.records),
      '--record-size',
      String(options.recordSize),
      '--throughput',
      '-1',
      ...keyed,
      '--command-property',
      'acks=all',
    ],
    600_000,
  )
  const result = parseProducerPerformance(stdout)
  if (result.total.records !== options.records) {
    throw new Error(
      `ProducerPerformance sent ${result.total.records} of ${options.records} records:\n${stderr.trim().split('\n').slice(-10).join('\n')}`,
    )
  }
  return result
}

/** ConsumerPerformance reading `records` records of `topic` from the start, in a group of its own. */
export async function consumerPerformance(
  tools: KafkaTools,
  options: { brokers: string[]; topic: string; records: number; group: string },
): Promise<ConsumerPerfSummary> {
  const { stdout, stderr } = await runTool(
    tools,
    'org.apache.kafka.tools.ConsumerPerformance',
    [
      '--bootstrap-server',
      options.brokers.join(','),
      '--topic',
      options.topic,
      '--num-records',
      String(options.records),
      '--group',
      options.group,
      '--timeout',
      '60000',
    ],
    600_000,
  )
  const summary = parseConsumerPerformance(stdout)
  if (summary.records < options.records) {
    throw new Error(
      `ConsumerPerformance read ${summary.records} of ${options.records} records: ${summary.warnings.join(' ')}\n${stderr.trim().split('\n').slice(-10).join('\n')}`,
    )
  }
  return summary
}
