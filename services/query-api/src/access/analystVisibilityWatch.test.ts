import { mkdtempSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createLogger } from '@audit-pipeline/service-runtime'
import { waitFor } from '@audit-pipeline/testing'
import { defaultAnalystVisibility, visibilityIn } from './analystVisibility.js'
import { readAnalystVisibilityFile } from './analystVisibilityFile.js'
import { watchAnalystVisibility } from './analystVisibilityWatch.js'

type LogLine = { level: string; msg: string; err?: { message: string } }

/** A visibility file showing acme's IPs, and the visibility following it, logging into `lines`. */
function visibilityOverFile() {
  const folder = mkdtempSync(join(tmpdir(), 'analyst-visibility-'))
  const file = join(folder, 'visibility.yaml')
  // As the CLI writes the keys file: a temporary file renamed over the old one.
  const write = (text: string) => {
    writeFileSync(join(folder, '.visibility.tmp'), text)
    renameSync(join(folder, '.visibility.tmp'), file)
  }
  write('tenants:\n  acme: { ip: visible }\n')
  const lines: LogLine[] = []
  const log = createLogger({
    service: 'analyst-visibility-test',
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  })
  const followed = watchAnalystVisibility({
    file,
    visibility: readAnalystVisibilityFile(file),
    log,
    debounceMs: 20,
  })
  onTestFinished(() => followed.close())
  const acmeIp = () => visibilityIn(followed.current(), 'acme').ip
  return { file, write, followed, lines, acmeIp }
}

describe('the analyst visibility, following its file', () => {
  it('applies a change without a restart', async () => {
    const { write, acmeIp } = visibilityOverFile()
    expect(acmeIp()).toBe('visible')
    write('tenants:\n  acme: { session_id: visible }\n')
    await waitFor(() => acmeIp() === 'hidden', { timeoutMs: 5_000, description: "acme's IPs to be hidden" })
  })

  it('keeps what it had and logs an error naming the entry when the file becomes invalid', async () => {
    const { file, write, followed, lines, acmeIp } = visibilityOverFile()
    write('tenants:\n  acme: { ip: shown }\n')
    const logged = await waitFor(() => lines.find((line) => line.level === 'error'), {
      timeoutMs: 5_000,
      description: 'the error about the invalid file',
    })
    expect(logged.msg).toContain(
      'analyst visibility file unusable: still using the visibility read before it',
    )
    expect(logged.err?.message).toContain(`${file}:2:15: tenants.acme.ip: expected one of: visible, hidden`)
    expect(acmeIp()).toBe('visible')
    // SIGHUP's reload says the same, by throwing.
    expect(() => followed.reload()).toThrow('tenants.acme.ip')
    expect(acmeIp()).toBe('visible')
  })

  it('reads the file again on reload (SIGHUP), and stops following it once closed', () => {
    const { write, followed, lines, acmeIp } = visibilityOverFile()
    followed.close()
    write('default: { ip: visible }\n')
    expect(acmeIp()).toBe('visible')
    write('default: { ip: hidden }\n')
    expect(acmeIp()).toBe('visible')
    followed.reload()
    expect(acmeIp()).toBe('hidden')
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'analyst visibility reloaded', tenants: 0 })
  })

  it('keeps the built-in default, with nothing to follow, without the setting', () => {
    const followed = watchAnalystVisibility({
      file: undefined,
      visibility: defaultAnalystVisibility,
      log: createLogger({ service: 'analyst-visibility-test', level: 'silent' }),
    })
    followed.reload()
    expect(followed.current()).toBe(defaultAnalystVisibility)
    followed.close()
  })
})
