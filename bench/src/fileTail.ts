import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

export type FileTail = {
  /** The complete lines appended since the last call (none while the file does not exist yet). */
  newLines(): string[]
  close(): void
}

/** Follows a file something else appends lines to, as `tail -f` does, keeping a partial last line for later. */
export function followFile(path: string): FileTail {
  let fd: number | undefined
  let offset = 0
  // Bytes after the last newline read: a line (or a character) the writer has not finished.
  let partial = Buffer.alloc(0)
  return {
    newLines() {
      if (fd === undefined) {
        try {
          fd = openSync(path, 'r')
        } catch {
          return []
        }
      }
      const { size } = fstatSync(fd)
      if (size <= offset) return []
      const buffer = Buffer.alloc(size - offset)
      let read = 0
      while (read < buffer.length) {
        const n = readSync(fd, buffer, read, buffer.length - read, offset + read)
        if (n === 0) break
        read += n
      }
      offset += read
      const bytes = Buffer.concat([partial, buffer.subarray(0, read)])
      const end = bytes.lastIndexOf(0x0a)
      partial = Buffer.from(bytes.subarray(end + 1))
      if (end < 0) return []
      return bytes
        .subarray(0, end)
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== '')
    },
    close() {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
    },
  }
}
