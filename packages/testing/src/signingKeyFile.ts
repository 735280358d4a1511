import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let path: string | undefined

/**
 * A file holding an Ed25519 private key (PKCS#8 PEM) for a sink under test to sign checkpoints
 * with (SINK_SIGNING_KEY_FILE): made on first use, one per test process, removed when it exits.
 */
export function testSigningKeyFile(): string {
  if (path !== undefined) return path
  const dir = mkdtempSync(join(tmpdir(), 'audit-test-key-'))
  const file = join(dir, 'checkpoint-signing.pem')
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  writeFileSync(file, pem, { mode: 0o600 })
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return (path = file)
}
