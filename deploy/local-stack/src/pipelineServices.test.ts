import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from './paths.js'
import { servicesFor, type LocalSetup } from './pipelineServices.js'

const local: LocalSetup = {
  receivers: { forwarderDestinations: '/s/destinations.yaml', alertReceivers: '/s/receivers.yaml' },
  queryApi: { keysFile: '/s/keys.json', port: 41234 },
  env: {},
  signingKeyFile: '/s/keys/checkpoint-signing.pem',
  fieldKeys: { directory: '/s/field-keys', kekFile: '/s/keys/field-keys.kek' },
}

describe('the services npm start runs', () => {
  it('with embedded ClickHouse, runs the sink and the query API in one process over the one data folder', () => {
    const services = servicesFor('embedded')
    expect(services.map((s) => s.name)).toEqual([
      'normalizer',
      'alerting',
      'clickhouse-sink+query-api',
      'forwarder',
    ])
    const shared = services.find((s) => s.name === 'clickhouse-sink+query-api')!
    expect(shared.defaults(local)).toMatchObject({
      SINK_INPUT_TOPICS: 'audit.normalized,audit.alerts,audit.access',
      SINK_SIGNING_KEY_FILE: '/s/keys/checkpoint-signing.pem',
      QUERY_API_KEYS_FILE: '/s/keys.json',
      QUERY_API_PORT: '41234',
      FIELD_KEYS_DIR: '/s/field-keys',
      FIELD_KEYS_KEK_FILE: '/s/keys/field-keys.kek',
    })
  })

  it('with a ClickHouse server, runs every service as its own process', () => {
    const services = servicesFor('http')
    expect(services.map((s) => s.name)).toEqual([
      'normalizer',
      'alerting',
      'clickhouse-sink',
      'query-api',
      'forwarder',
    ])
    expect(services.find((s) => s.name === 'query-api')!.defaults(local)).toEqual({
      QUERY_API_KEYS_FILE: '/s/keys.json',
      QUERY_API_PORT: '41234',
      FIELD_KEYS_DIR: '/s/field-keys',
      FIELD_KEYS_KEK_FILE: '/s/keys/field-keys.kek',
    })
  })

  it('gives the normalizer and the query API the one key store, and no other service', () => {
    const fieldKeys = { FIELD_KEYS_DIR: '/s/field-keys', FIELD_KEYS_KEK_FILE: '/s/keys/field-keys.kek' }
    for (const kind of ['embedded', 'http'] as const) {
      const services = servicesFor(kind)
      const normalizer = services.find((s) => s.name === 'normalizer')!
      expect(normalizer.defaults(local)).toEqual({
        NORMALIZER_ROUTES_FILE: join(repoRoot, 'deploy/normalizer/routes.yaml'),
        NORMALIZER_REDACTION_FILE: join(repoRoot, 'deploy/normalizer/redaction.yaml'),
        ...fieldKeys,
      })
      const withKeys = services.filter((s) => 'FIELD_KEYS_DIR' in s.defaults(local)).map((s) => s.name)
      expect(withKeys).toEqual(
        kind === 'embedded' ? ['normalizer', 'clickhouse-sink+query-api'] : ['normalizer', 'query-api'],
      )
      for (const spec of services.filter((s) => withKeys.includes(s.name))) {
        expect(spec.defaults(local)).toMatchObject(fieldKeys)
      }
    }
  })

  it("names bins that are the packages' own", () => {
    for (const spec of [...servicesFor('embedded'), ...servicesFor('http')]) {
      const packageDir = join(repoRoot, spec.bin, '..', '..')
      const { bin } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
        bin: Record<string, string>
      }
      expect(Object.values(bin).map((path) => join(packageDir, path))).toContain(join(repoRoot, spec.bin))
      expect(existsSync(join(repoRoot, spec.bin))).toBe(true)
    }
  })
})
