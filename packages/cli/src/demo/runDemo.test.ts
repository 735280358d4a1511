import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { writePipelineEndpoints } from '@audit-pipeline/stack-state'
import { demoCommand } from './runDemo.js'

/** A state folder of the test's own, removed when it finishes. */
function newStateDir(): string {
  const stateDir = mkdtempSync(join(tmpdir(), 'cli-demo-'))
  onTestFinished(() => rmSync(stateDir, { recursive: true, force: true }))
  return stateDir
}

function capturedIo() {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    io: { out: (line: string) => void out.push(line), err: (line: string) => void err.push(line) },
  }
}

/** Above Linux's largest PID (2^22), so no process has it. */
const deadPid = 2 ** 22 + 1

describe('audit-pipeline demo without a running pipeline', () => {
  it('says how to get one and exits 2, starting nothing', async () => {
    const stateDir = newStateDir()
    const { out, err, io } = capturedIo()

    expect(await demoCommand({ AUDIT_STACK_DIR: stateDir }, io)).toBe(2)

    expect(out).toEqual([])
    expect(err).toEqual([
      `audit-pipeline demo: no pipeline is running in ${stateDir}: ` +
        '`npm run demo` starts one for the demo, or run `npm start` in another terminal first',
    ])
  })

  it('takes the endpoints file of an `npm start` that died for no pipeline', async () => {
    const stateDir = newStateDir()
    writePipelineEndpoints(stateDir, {
      ownerPid: deadPid,
      queryApi: { url: 'http://127.0.0.1:1', key: 'local-auditor.secret' },
      webhookLog: join(stateDir, 'logs', 'webhooks.ndjson'),
      inboxUrl: 'http://127.0.0.1:2',
    })
    const { err, io } = capturedIo()

    expect(await demoCommand({ AUDIT_STACK_DIR: stateDir }, io)).toBe(2)

    expect(err.join('\n')).toMatch(/^audit-pipeline demo: no pipeline is running in /)
  })
})
