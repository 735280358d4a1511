import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createKey } from './keyOperations.js'
import {
  readApiKeysFile,
  readApiKeysFileIfPresent,
  updateApiKeysFile,
  writeApiKeysFile,
} from './keysFileStore.js'
import { systemEntropy } from './secrets.js'
import type { ApiKey } from './apiKey.js'

const folder = () => mkdtempSync(join(tmpdir(), 'api-keys-'))

function manyKeys(count: number, role: 'auditor' | 'analyst'): ApiKey[] {
  let keys: ApiKey[] = []
  for (let i = 0; i < count; i++)
    keys = createKey(keys, { role, tenants: ['t1', 't2'] }, systemEntropy()).keys
  return keys
}

describe('the keys file on disk', () => {
  it('is written for its owner only, with no temporary file left, and read back', () => {
    const file = join(folder(), 'nested', 'keys.json')
    expect(readApiKeysFileIfPresent(file)).toBeUndefined()
    expect(() => readApiKeysFile(file)).toThrow(`cannot read ${file}: no such file`)
    const keys = manyKeys(2, 'analyst')
    writeApiKeysFile(file, keys)
    expect(readApiKeysFile(file)).toEqual(keys)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(join(file, '..'))).toEqual(['keys.json'])
  })

  it('is changed through updateApiKeysFile, which sees no keys when there is no file yet', async () => {
    const file = join(folder(), 'keys.json')
    const seen: (ApiKey[] | undefined)[] = []
    const first = await updateApiKeysFile(file, (keys) => {
      seen.push(keys)
      return createKey(keys ?? [], { id: 'a', role: 'auditor', tenants: 'all' }, systemEntropy())
    })
    await updateApiKeysFile(file, (keys) => {
      seen.push(keys)
      return createKey(keys ?? [], { id: 'b', role: 'auditor', tenants: 'all' }, systemEntropy())
    })
    expect(seen).toEqual([undefined, first.keys])
    expect(readApiKeysFile(file).map((key) => key.id)).toEqual(['a', 'b'])
  })

  it('waits for the lock another process holds before reading, so its change is not lost', async () => {
    const file = join(folder(), 'keys.json')
    writeApiKeysFile(file, manyKeys(1, 'auditor'))
    // 0: not yet locked, 1: the other holder has the lock, 2: it released it.
    const state = new Int32Array(new SharedArrayBuffer(8))
    const holder = new Worker(
      `const { lockSync } = require('proper-lockfile')
       const { parentPort, workerData } = require('node:worker_threads')
       const release = lockSync(workerData.file, { realpath: false })
       Atomics.store(workerData.state, 0, 1)
       parentPort.postMessage('locked')
       while (Atomics.load(workerData.state, 1) === 0) {}
       Atomics.store(workerData.state, 0, 2)
       release()
       parentPort.postMessage('released')`,
      { eval: true, workerData: { file, state } },
    )
    onTestFinished(async () => {
      await holder.terminate()
    })
    await new Promise<void>((resolve, reject) => {
      holder.once('message', () => resolve())
      holder.once('error', reject)
    })
    let seenWhileChanging = -1
    const pending = updateApiKeysFile(file, (keys) => {
      seenWhileChanging = Atomics.load(state, 0)
      return createKey(keys ?? [], { id: 'late', role: 'analyst', tenants: ['t1'] }, systemEntropy())
    })
    // Asked to let go only once the change is under way: a change that did not wait for the lock
    // has already read the file by now.
    Atomics.store(state, 1, 1)
    await pending
    expect(seenWhileChanging).toBe(2)
    expect(readApiKeysFile(file).map((key) => key.id)).toContain('late')
    expect(readdirSync(dirname(file))).toEqual(['keys.json'])
  })

  it('names the file when its content is unusable', () => {
    const file = join(folder(), 'keys.json')
    writeFileSync(file, '{"keys": [{"id": "a"}]}')
    expect(() => readApiKeysFile(file)).toThrow(`${file}: keys.0.secret_sha256:`)
  })

  it('is never seen half written by a reader polling it while it is rewritten', async () => {
    const file = join(folder(), 'keys.json')
    // Big enough (about 150 kB) that a write in place would be seen truncated or partial.
    const versions = [manyKeys(600, 'auditor'), manyKeys(600, 'analyst')]
    writeApiKeysFile(file, versions[0]!)
    const stop = new Int32Array(new SharedArrayBuffer(4))
    // Reads and parses the file as fast as it can until told to stop; counts what did not parse.
    const reader = new Worker(
      `const { readFileSync } = require('node:fs')
       const { parentPort, workerData } = require('node:worker_threads')
       let reads = 0, torn = 0
       parentPort.postMessage('reading')
       while (Atomics.load(workerData.stop, 0) === 0) {
         try { JSON.parse(readFileSync(workerData.file, 'utf8')) } catch { torn++ }
         reads++
       }
       parentPort.postMessage({ reads, torn })`,
      { eval: true, workerData: { file, stop } },
    )
    const messages: unknown[] = []
    const done = new Promise<{ reads: number; torn: number }>((resolve, reject) => {
      reader.on('message', (message) => {
        messages.push(message)
        if (typeof message === 'object') resolve(message as { reads: number; torn: number })
      })
      reader.on('error', reject)
    })
    await new Promise<void>((resolve) => reader.once('message', () => resolve()))
    for (let write = 1; write <= 60; write++) writeApiKeysFile(file, versions[write % 2]!)
    Atomics.store(stop, 0, 1)
    const { reads, torn } = await done
    await reader.terminate()
    expect(reads).toBeGreaterThan(0)
    expect(torn).toBe(0)
    expect(readdirSync(join(file, '..'))).toEqual(['keys.json'])
  })
})
