import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { fieldKeyStore, reloadAll } from './startQueryApi.js'

describe('fieldKeyStore', () => {
  it('warns once that auditors see sealed values as stored when no key store is set', () => {
    const log = { warn: vi.fn() }
    expect(fieldKeyStore({}, log)).toBeUndefined()
    expect(log.warn).toHaveBeenCalledTimes(1)
    expect(log.warn.mock.calls[0]![0]).toContain('FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE are not set')
  })

  it('opens the local key store of the settings, without a warning', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'query-api-field-keys-'))
    onTestFinished(() => rm(directory, { recursive: true, force: true }))
    const log = { warn: vi.fn() }
    const keys = fieldKeyStore(
      { fieldKeys: { directory, keyEncryptionKeyFile: 'kek', keyEncryptionKey: randomBytes(32) } },
      log,
    )
    expect(await keys?.keyById('k-unknown')).toEqual({ state: 'unknown' })
    expect(log.warn).not.toHaveBeenCalled()
  })
})

describe('reloadAll', () => {
  it('reloads every file even after one fails, then throws what failed', () => {
    const reloaded: string[] = []
    const file = (name: string, problem?: string) => ({
      reload() {
        reloaded.push(name)
        if (problem !== undefined) throw new Error(problem)
      },
    })
    expect(() => reloadAll([file('keys'), file('visibility')])).not.toThrow()
    expect(() => reloadAll([file('keys', 'bad keys'), file('visibility')])).toThrow('bad keys')
    expect(() => reloadAll([file('keys', 'bad keys'), file('visibility', 'bad visibility')])).toThrow(
      AggregateError,
    )
    expect(reloaded).toEqual(['keys', 'visibility', 'keys', 'visibility', 'keys', 'visibility'])
  })
})
