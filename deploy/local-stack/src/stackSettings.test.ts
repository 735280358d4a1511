import { describe, expect, it } from 'vitest'
import { ConfigError } from '@audit-pipeline/config'
import { replicationFor, requestedClusterSize, restartPolicyFrom } from './stackSettings.js'

describe('requestedClusterSize', () => {
  it('is undefined unless asked, then 1 or 3; the flag wins over the variable', () => {
    expect(requestedClusterSize({})).toBeUndefined()
    expect(requestedClusterSize({ AUDIT_STACK_BROKERS: '' })).toBeUndefined()
    expect(requestedClusterSize({ AUDIT_STACK_BROKERS: '3' })).toBe(3)
    expect(requestedClusterSize({ AUDIT_STACK_BROKERS: ' 1 ' })).toBe(1)
    expect(requestedClusterSize({ AUDIT_STACK_BROKERS: '1' }, '3')).toBe(3)
  })

  it('names the variable and the accepted values', () => {
    expect(() => requestedClusterSize({ AUDIT_STACK_BROKERS: '2' })).toThrow(ConfigError)
    expect(() => requestedClusterSize({ AUDIT_STACK_BROKERS: '2' })).toThrow(
      'AUDIT_STACK_BROKERS: expected one of: 1, 3 (got "2")',
    )
  })

  it('names the flag', () => {
    expect(() => requestedClusterSize({}, 'three')).toThrow(
      'invalid configuration (command line):\n  - --brokers: expected one of: 1, 3 (got "three")',
    )
  })

  it('refuses --brokers beside KAFKA_BROKERS, and checks the variable even then', () => {
    expect(() => requestedClusterSize({ KAFKA_BROKERS: 'k:9092' }, '3')).toThrow(
      '--brokers: asks for a local 3-broker cluster, but KAFKA_BROKERS names an existing one',
    )
    expect(requestedClusterSize({ KAFKA_BROKERS: 'k:9092', AUDIT_STACK_BROKERS: '3' })).toBe(3)
    expect(() => requestedClusterSize({ KAFKA_BROKERS: 'k:9092', AUDIT_STACK_BROKERS: '5' })).toThrow(
      'AUDIT_STACK_BROKERS',
    )
  })
})

describe('replicationFor', () => {
  it('replicates three ways and needs two in sync on a cluster', () => {
    expect(replicationFor(1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 })
    expect(replicationFor(3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 })
  })
})

describe('restartPolicyFrom', () => {
  it('never gives up by default', () => {
    expect(restartPolicyFrom({}).maxConsecutiveRestarts).toBeUndefined()
    expect(restartPolicyFrom({ AUDIT_STACK_MAX_RESTARTS: '5' }).maxConsecutiveRestarts).toBe(5)
  })

  it('names the variable when it is not a whole number', () => {
    expect(() => restartPolicyFrom({ AUDIT_STACK_MAX_RESTARTS: 'many' })).toThrow(
      'AUDIT_STACK_MAX_RESTARTS: expected a whole number, e.g. 5',
    )
  })
})
