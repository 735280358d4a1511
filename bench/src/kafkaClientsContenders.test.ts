import { describe, expect, it } from 'vitest'
import {
  contenderFolder,
  contenders,
  contendersRoot,
  installCommand,
  satisfiesNodeRange,
  type Contender,
} from './kafkaClientsContenders.js'

const contender = (name: Contender['name']) => {
  const found = contenders.find((candidate) => candidate.name === name)
  if (!found) throw new Error(`no contender ${name}`)
  return found
}

describe('satisfiesNodeRange', () => {
  it("reads platformatic's engines: Node 20 is refused, 22.22+ and 24 accepted", () => {
    const range = '>= 22.22.0 || >= 24.6.0'
    expect(satisfiesNodeRange('v20.20.2', range)).toBe(false)
    expect(satisfiesNodeRange('v22.21.9', range)).toBe(false)
    expect(satisfiesNodeRange('v22.23.5', range)).toBe(true)
    expect(satisfiesNodeRange('v24.22.3', range)).toBe(true)
  })

  it('holds every comparator of an alternative', () => {
    expect(satisfiesNodeRange('v18.0.0', '>=18.0.0')).toBe(true)
    expect(satisfiesNodeRange('v17.9.1', '>=18')).toBe(false)
    expect(satisfiesNodeRange('v21.1.0', '>=20 <22')).toBe(true)
    expect(satisfiesNodeRange('v22.0.0', '>=20 <22')).toBe(false)
    expect(satisfiesNodeRange('v20.19.0', '>20.18.9')).toBe(true)
    expect(satisfiesNodeRange('v20.19.0', '<=20.19.0')).toBe(true)
    expect(satisfiesNodeRange('v20.19.0', '20.19.0')).toBe(true)
  })

  it('says it cannot tell for ranges it does not read, rather than guess', () => {
    expect(satisfiesNodeRange('v20.0.0', '^20.0.0')).toBeUndefined()
    expect(satisfiesNodeRange('v20.0.0', '20.x')).toBeUndefined()
    expect(satisfiesNodeRange('v20.0.0', '')).toBeUndefined()
    expect(satisfiesNodeRange('not-a-version', '>=20')).toBeUndefined()
  })
})

describe('contenderFolder', () => {
  it('keeps a native addon per Node.js ABI, a pure JavaScript client once', () => {
    const root = contendersRoot('/home/me/.cache/audit-pipeline')
    expect(contenderFolder(contender('confluent'), { root, nodeAbi: '137' })).toBe(
      '/home/me/.cache/audit-pipeline/kafka-clients/@confluentinc+kafka-javascript@1.10.1-node-abi137',
    )
    expect(contenderFolder(contender('platformatic'), { root, nodeAbi: '137' })).toBe(
      '/home/me/.cache/audit-pipeline/kafka-clients/@platformatic+kafka@2.12.1',
    )
  })
})

describe('installCommand', () => {
  it('installs the pinned version into the folder, saving nothing, with the contender’s build settings', () => {
    const command = installCommand(contender('confluent'), { folder: '/cache/x', nodeDir: '/opt/node-24' })
    expect(command.args).toEqual([
      'install',
      '--prefix',
      '/cache/x',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      '@confluentinc/kafka-javascript@1.10.1',
    ])
    expect(command.env).toEqual({ CKJS_LINKING: 'dynamic', npm_config_nodedir: '/opt/node-24' })
  })

  it('leaves node-gyp’s headers setting alone without a Node.js folder', () => {
    expect(installCommand(contender('platformatic'), { folder: '/cache/y' }).env).toEqual({})
  })
})
