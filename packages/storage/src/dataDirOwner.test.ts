import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { dataDirOwner, statusFilePid } from './dataDirOwner.js'
import { temporaryDataDir } from './testing/testResources.js'

describe('statusFilePid', () => {
  it('reads the PID line the engine writes', () => {
    expect(statusFilePid('PID: 8757\nStarted at: 2026-11-23 13:33:34\nRevision: 54513\n')).toBe(8757)
  })

  it('is undefined when there is no PID line', () => {
    expect(statusFilePid('')).toBeUndefined()
    expect(statusFilePid('Started at: 2026-11-23 13:33:34\n')).toBeUndefined()
  })
})

describe('dataDirOwner', () => {
  it('is undefined without a status file, and names the PID in one', async () => {
    const dataDir = await temporaryDataDir()
    onTestFinished(() => dataDir.remove())
    expect(await dataDirOwner(dataDir.path)).toBeUndefined()
    await writeFile(join(dataDir.path, 'status'), 'PID: 42\nStarted at: 2026-11-23 13:33:34\n')
    expect(await dataDirOwner(dataDir.path)).toEqual({ pid: 42 })
  })
})
