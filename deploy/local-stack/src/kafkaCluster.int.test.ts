import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { isAlive } from '@audit-pipeline/stack-state'
import { collectTopics, uniqueName, waitFor } from '@audit-pipeline/testing'
import { createTopicsWithLeaders } from './pipelineTopics.js'
import { startStack } from './stack.js'
import { kafkaClusterControl } from './stackProcessControl.js'

const endpoints = inject('stack')

describe('a three-node local Kafka cluster', () => {
  it(
    'takes acks=all writes and serves reads with one broker SIGKILLed, then takes it back, and stops by PID',
    { timeout: 300_000 },
    async () => {
      // Its own folder and ports: the run's shared stack is left alone (only its registry is used).
      const stateDir = mkdtempSync(join(tmpdir(), 'kafka-cluster-'))
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        AUDIT_STACK_BROKERS: '3',
        SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
      }
      delete env['KAFKA_BROKERS']
      const stack = await startStack({ env, stateDir, ownerPid: process.pid })
      onTestFinished(async () => {
        await stack.stop()
        rmSync(stateDir, { recursive: true, force: true })
      })
      const control = kafkaClusterControl(stateDir)
      expect(control.brokerIds()).toEqual([1, 2, 3])
      const startedPids = control.brokerPids()
      expect(new Set(startedPids.values()).size).toBe(3)
      expect(stack.state.kafka.brokers).toEqual([1, 2, 3].map((id) => control.brokerAddress(id)))

      const kafka = new Kafka({
        clientId: 'cluster-test',
        brokers: stack.state.kafka.brokers,
        logLevel: logLevel.NOTHING,
        // Generous: a SIGKILLed leader is noticed when its broker session (9 s) expires.
        retry: { retries: 12, initialRetryTime: 300, maxRetryTime: 5_000 },
      })
      const admin = kafka.admin()
      await admin.connect()
      onTestFinished(() => admin.disconnect())
      expect((await admin.describeCluster()).brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3])
      const [brokerConfig] = (
        await admin.describeConfigs({
          resources: [
            {
              type: ConfigResourceTypes.BROKER,
              name: '1',
              configNames: ['min.insync.replicas', 'default.replication.factor'],
            },
          ],
          includeSynonyms: false,
        })
      ).resources
      expect(
        Object.fromEntries(brokerConfig!.configEntries.map((e) => [e.configName, e.configValue])),
      ).toEqual({
        'min.insync.replicas': '2',
        'default.replication.factor': '3',
      })

      const topic = uniqueName('cluster')
      await createTopicsWithLeaders(admin, [{ topic, numPartitions: 3, replicationFactor: 3 }])
      // Any broker may answer a metadata request, and kafkajs gives up at once on one whose
      // metadata has not caught up with the new topic ("does not host this topic-partition").
      const topicMetadata = () =>
        waitFor(() => admin.fetchTopicMetadata({ topics: [topic] }), {
          timeoutMs: 30_000,
          description: `metadata of ${topic}`,
        })
      const replicasInSync = async () =>
        (await topicMetadata()).topics[0]!.partitions.map((p) => p.isr.length)
      expect(
        await waitFor(async () => (await replicasInSync()).join() === '3,3,3' && 'in sync', {
          timeoutMs: 30_000,
          description: 'three in-sync replicas in each of the three partitions',
        }),
      ).toBe('in sync')

      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
      await producer.connect()
      onTestFinished(() => producer.disconnect())
      const batch = (from: number) =>
        Array.from({ length: 30 }, (_, i) => ({ key: `k${(from + i) % 7}`, value: String(from + i) }))
      await producer.send({ topic, acks: -1, messages: batch(0) })

      // The leader of partition 0 crashes.
      const metadata = await topicMetadata()
      const victim = metadata.topics[0]!.partitions.find((p) => p.partitionId === 0)!.leader
      await control.killBroker(victim, 'SIGKILL')
      expect(control.isBrokerRunning(victim)).toBe(false)
      expect(isAlive(startedPids.get(victim)!)).toBe(false)

      // Two replicas of three are still in sync: min.insync.replicas=2 lets acks=all through.
      await producer.send({ topic, acks: -1, messages: batch(30) })
      const collector = await collectTopics(kafka, [topic])
      onTestFinished(() => collector.stop())
      const values = await waitFor(
        () => {
          const seen = new Set(collector.messages.map((m) => m.value?.toString()))
          return seen.size === 60 && seen
        },
        { timeoutMs: 90_000, description: 'all 60 records read back with a broker down' },
      )
      expect([...values].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i))

      // Back with the same ports and data: it rejoins and catches up.
      const restartedPid = await control.startBroker(victim)
      expect(restartedPid).not.toBe(startedPids.get(victim))
      expect(control.brokerPids().get(victim)).toBe(restartedPid)
      expect(control.isBrokerRunning(victim)).toBe(true)
      await waitFor(async () => (await replicasInSync()).every((n) => n === 3), {
        timeoutMs: 90_000,
        description: `node ${victim} back in every partition's ISR`,
      })
      await producer.send({ topic, acks: -1, messages: batch(60) })

      // Everything stops by the PIDs the state file has now, the restarted node's included.
      await collector.stop()
      await producer.disconnect()
      await admin.disconnect()
      const pids = [...control.brokerPids().values()]
      await stack.stop()
      expect(pids.filter(isAlive)).toEqual([])
    },
  )
})
