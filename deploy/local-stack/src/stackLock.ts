import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { isAlive } from '@audit-pipeline/stack-state'

/**
 * Holds `<stateDir>/.lock` while a stack starts or stops, so two commands in the same folder
 * cannot both start a broker. A lock left by a process that has died is taken over.
 */
export function acquireStackLock(stateDir: string): () => void {
  mkdirSync(stateDir, { recursive: true })
  const lockFile = join(stateDir, '.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(lockFile, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number(readFileSync(lockFile, 'utf8'))
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `another local-stack command (pid ${holder}) is starting or stopping the stack in ${stateDir}; wait for it to finish`,
        )
      }
      rmSync(lockFile, { force: true })
    }
  }
  throw new Error(`could not lock ${lockFile}`)
}
