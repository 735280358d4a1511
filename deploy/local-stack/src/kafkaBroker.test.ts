import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { brokerProperties, newClusterId, quorumVoters, type NodeProperties } from './kafkaBroker.js'
import { deployDir } from './paths.js'

describe('newClusterId', () => {
  it('is a 22-character base64url UUID', () => {
    expect(newClusterId()).toMatch(/^[A-Za-z0-9_-]{22}$/)
  })

  it('never starts with a dash, which the storage tool would read as an option', () => {
    // 0xf8 encodes to a leading '-' in base64url; the second draw does not.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)]
    const id = newClusterId(() => draws.shift()!)
    expect(id.startsWith('-')).toBe(false)
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true)
    expect(draws).toEqual([])
  })
})

const node2: NodeProperties = {
  nodeId: 2,
  kafkaPort: 40002,
  controllerPort: 50002,
  dataDir: '/stack/kafka/node-2/data',
  quorumVoters: quorumVoters([
    { id: 1, controllerPort: 50001 },
    { id: 2, controllerPort: 50002 },
    { id: 3, controllerPort: 50003 },
  ]),
  replicationFactor: 3,
  minInsyncReplicas: 2,
}

/** The settings of a properties file, comments left out. */
function settingsOf(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('=') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  )
}

describe('brokerProperties', () => {
  it('makes node 2 of a three-voter cluster with RF 3 and min ISR 2, internal topics included', () => {
    const template = readFileSync(join(deployDir, 'kafka/server.properties.template'), 'utf8')
    const settings = settingsOf(brokerProperties(template, node2))
    expect(settings).toMatchObject({
      'node.id': '2',
      'process.roles': 'broker,controller',
      'controller.quorum.voters': '1@127.0.0.1:50001,2@127.0.0.1:50002,3@127.0.0.1:50003',
      listeners: 'PLAINTEXT://127.0.0.1:40002,CONTROLLER://127.0.0.1:50002',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:40002',
      'log.dirs': '/stack/kafka/node-2/data',
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'offsets.topic.replication.factor': '3',
      'transaction.state.log.replication.factor': '3',
      'transaction.state.log.min.isr': '2',
    })
    expect(Object.values(settings).join('\n')).not.toContain('${')
  })

  it('names a placeholder nothing fills', () => {
    expect(() => brokerProperties('# ${COMMENTED} is fine\na=${NODE_ID}\nb=${UNKNOWN}', node2)).toThrow(
      'placeholders nothing fills: ${UNKNOWN}',
    )
  })
})
