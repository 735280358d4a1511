import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  createKey,
  readApiKeysFile,
  secretSha256,
  systemEntropy,
  writeApiKeysFile,
} from '@audit-pipeline/api-keys'
import { localQueryApiKeysFile } from '@audit-pipeline/stack-state'
import { localQueryApiKeyId, writeLocalQueryApiKeys } from './localQueryApi.js'

const stateDir = () => mkdtempSync(join(tmpdir(), 'local-query-api-'))

/** The stored hash matches the token's secret. */
function matches(token: string, hash: Buffer | undefined): boolean {
  const secret = token.slice(token.indexOf('.') + 1)
  return hash !== undefined && secretSha256(secret).equals(hash)
}

describe('the local query API keys', () => {
  it('makes the keys file with the local auditor key when there is none, for its owner only', async () => {
    const dir = stateDir()
    const { keysFile, key } = await writeLocalQueryApiKeys(dir)
    expect(keysFile).toBe(localQueryApiKeysFile(dir))
    expect(key.startsWith(`${localQueryApiKeyId}.`)).toBe(true)
    const keys = readApiKeysFile(keysFile)
    expect(keys).toMatchObject([{ id: 'local-auditor', role: 'auditor', tenants: 'all' }])
    expect(matches(key, keys[0]?.secretSha256)).toBe(true)
    expect(statSync(keysFile).mode & 0o777).toBe(0o600)
  })

  it('on the next start renews only the local auditor key, and keeps every key users made', async () => {
    const dir = stateDir()
    const first = await writeLocalQueryApiKeys(dir)
    const analyst = createKey(
      readApiKeysFile(first.keysFile),
      { role: 'analyst', tenants: ['t1'] },
      systemEntropy(),
    )
    writeApiKeysFile(first.keysFile, analyst.keys)

    const second = await writeLocalQueryApiKeys(dir)
    const keys = readApiKeysFile(second.keysFile)
    expect(keys.map((key) => key.id)).toEqual(['local-auditor', analyst.key.id])
    expect(keys[1]).toEqual(analyst.key)
    // pipeline.json's new token matches the file; the previous start's no longer does.
    expect(matches(second.key, keys[0]?.secretSha256)).toBe(true)
    expect(matches(first.key, keys[0]?.secretSha256)).toBe(false)
  })

  it('refuses to start over an invalid keys file, naming it, rather than losing its keys', async () => {
    const dir = stateDir()
    writeFileSync(localQueryApiKeysFile(dir), '{"keys": [{"id": "mine"}]}')
    await expect(writeLocalQueryApiKeys(dir)).rejects.toThrow(
      `${localQueryApiKeysFile(dir)}: keys.0.secret_sha256`,
    )
  })
})
