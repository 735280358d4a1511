import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  createKey,
  readApiKeysFile,
  revokeKey,
  systemEntropy,
  writeApiKeysFile,
} from '@audit-pipeline/api-keys'
import { createLogger } from '@audit-pipeline/service-runtime'
import { waitFor } from '@audit-pipeline/testing'
import { authenticate } from './authenticate.js'
import { watchKeyRing } from './keyRing.js'

type LogLine = { level: string; msg: string; err?: { message: string } }

/** A keys file with one auditor key, and a ring following it that logs into `lines`. */
function ringOverFile() {
  const file = join(mkdtempSync(join(tmpdir(), 'key-ring-')), 'keys.json')
  const first = createKey([], { id: 'first', role: 'auditor', tenants: 'all' }, systemEntropy())
  writeApiKeysFile(file, first.keys)
  const lines: LogLine[] = []
  const log = createLogger({
    service: 'key-ring-test',
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  })
  const ring = watchKeyRing({ file, keys: readApiKeysFile(file), log, debounceMs: 20 })
  onTestFinished(() => ring.close())
  const works = (token: string) => authenticate(`Bearer ${token}`, ring, Date.now())
  return { file, ring, lines, works, firstToken: first.token }
}

describe('the key ring', () => {
  it('follows the keys file: a key created works, a key revoked is refused, without a restart', async () => {
    const { file, ring, works, firstToken } = ringOverFile()
    expect(works(firstToken).ok).toBe(true)

    const added = createKey(readApiKeysFile(file), { role: 'analyst', tenants: ['t1'] }, systemEntropy())
    writeApiKeysFile(file, added.keys)
    await waitFor(() => works(added.token).ok, { timeoutMs: 5_000, description: 'the new key to work' })
    expect(ring.size).toBe(2)

    writeApiKeysFile(file, revokeKey(readApiKeysFile(file), added.key.id, Date.now()).keys)
    await waitFor(() => !works(added.token).ok, {
      timeoutMs: 5_000,
      description: 'the revoked key to be refused',
    })
    expect(works(added.token)).toMatchObject({ ok: false, message: 'API key revoked' })
    expect(works(firstToken).ok).toBe(true)
  })

  it('keeps its keys and logs an error naming the entry when the file becomes invalid', async () => {
    const { file, ring, lines, works, firstToken } = ringOverFile()
    writeFileSync(file, '{"keys": [{"id": "first", "secret_sha256": "not-a-hash", "role": "auditor"}]}')
    const logged = await waitFor(() => lines.find((line) => line.level === 'error'), {
      timeoutMs: 5_000,
      description: 'the error about the invalid file',
    })
    expect(logged.msg).toContain('still using the keys read before it')
    expect(logged.err?.message).toContain(`${file}: keys.0.secret_sha256: expected the SHA-256 of the secret`)
    expect(works(firstToken).ok).toBe(true)
    // SIGHUP's reload says the same, by throwing.
    expect(() => ring.reload()).toThrow('keys.0.secret_sha256')
    expect(works(firstToken).ok).toBe(true)
  })

  it('reads the file again on reload (SIGHUP), and stops following it once closed', () => {
    const { file, ring, lines, works } = ringOverFile()
    ring.close()
    const added = createKey(readApiKeysFile(file), { role: 'auditor', tenants: 'all' }, systemEntropy())
    writeApiKeysFile(file, added.keys)
    expect(works(added.token).ok).toBe(false)
    ring.reload()
    expect(works(added.token).ok).toBe(true)
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'API keys reloaded', keys: 2 })
  })
})
