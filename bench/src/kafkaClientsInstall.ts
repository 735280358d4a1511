import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  contenderFolder,
  installCommand,
  satisfiesNodeRange,
  type Contender,
} from './kafkaClientsContenders.js'

/** A contender ready to load, or why not. */
export type PreparedContender =
  | {
      ready: true
      contender: Contender
      folder: string
      /** The first run's install, or undefined when it was already in the cache. */
      installedNow: boolean
      installSeconds: number
      diskBytes: number
    }
  | { ready: false; contender: Contender; reason: string }

/** What the cache folder keeps about its install, written last: a folder without it is incomplete. */
type InstallRecord = { package: string; version: string; node: string; seconds: number; diskBytes: number }

const installTimeoutMs = 20 * 60_000

/**
 * Installs `contender` into its cache folder the first time (pinned, `npm install --prefix`, for
 * the Node.js running this process: a native addon is built for its ABI and headers), or finds
 * it there. The install goes to a folder of its own first and is renamed into place when npm
 * succeeded, so an interrupted install never looks like a finished one. Says why when the
 * contender cannot run on this Node.js or could not be installed.
 */
export async function prepareContender(
  contender: Contender,
  options: { root: string; log: (line: string) => void },
): Promise<PreparedContender> {
  const node = process.version
  const unsupported = (range: string) =>
    ({
      ready: false,
      contender,
      reason: `needs Node.js ${range} (its engines.node); this is ${node}`,
    }) as const
  if (contender.nodeEngines && satisfiesNodeRange(node, contender.nodeEngines) === false) {
    return unsupported(contender.nodeEngines)
  }
  const folder = contenderFolder(contender, { root: options.root, nodeAbi: process.versions.modules })
  const recordFile = join(folder, 'install.json')
  let installedNow = false
  if (!existsSync(recordFile)) {
    const installed = await install(contender, folder, options.log)
    if (!installed.ok) return { ready: false, contender, reason: installed.reason }
    installedNow = true
  }
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as InstallRecord
  const manifest = join(folder, 'node_modules', contender.packageName, 'package.json')
  if (!existsSync(manifest)) {
    return { ready: false, contender, reason: `${manifest} is missing: delete ${folder} to install again` }
  }
  const engines = (JSON.parse(readFileSync(manifest, 'utf8')) as { engines?: { node?: string } }).engines
    ?.node
  if (engines && satisfiesNodeRange(node, engines) === false) return unsupported(engines)
  return {
    ready: true,
    contender,
    folder,
    installedNow,
    installSeconds: record.seconds,
    diskBytes: record.diskBytes,
  }
}

async function install(
  contender: Contender,
  folder: string,
  log: (line: string) => void,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const partial = `${folder}.partial-${process.pid}`
  await rm(partial, { recursive: true, force: true })
  await mkdir(partial, { recursive: true })
  // node-gyp builds against the headers of the Node.js that will load the addon: this one's.
  const nodeDir = dirname(dirname(process.execPath))
  const { args, env } = installCommand(contender, {
    folder: partial,
    ...(existsSync(join(nodeDir, 'include', 'node', 'node.h')) && { nodeDir }),
  })
  log(
    `installing ${contender.packageName}@${contender.version} into ${folder} ` +
      `(once per machine${contender.native ? ' and Node.js ABI' : ''}): npm ${args.join(' ')}` +
      (Object.keys(env).length > 0
        ? ` with ${Object.entries(env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`
        : ''),
  )
  const started = performance.now()
  // npm runs on this Node.js, so that install scripts (node-gyp) build for it.
  const result = await run('npm', args, {
    env: { ...process.env, ...env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
    timeoutMs: installTimeoutMs,
  })
  const seconds = (performance.now() - started) / 1000
  if (result.code !== 0) {
    await rm(partial, { recursive: true, force: true })
    const tail = result.output.trim().split('\n').slice(-6).join(' | ')
    return { ok: false, reason: `npm install failed (${result.code}) after ${seconds.toFixed(0)} s: ${tail}` }
  }
  const diskBytes = await folderBytes(partial)
  const record: InstallRecord = {
    package: contender.packageName,
    version: contender.version,
    node: process.version,
    seconds,
    diskBytes,
  }
  await writeFile(join(partial, 'install.json'), `${JSON.stringify(record, null, 2)}\n`)
  await rm(folder, { recursive: true, force: true })
  await rename(partial, folder)
  log(`  installed in ${seconds.toFixed(0)} s, ${(diskBytes / 1e6).toFixed(0)} MB`)
  return { ok: true }
}

/** Runs a command, its output kept (the end of it names a failure); killed by its PID past the timeout. */
function run(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const timer = setTimeout(() => {
      output += `\n(stopped after ${options.timeoutMs / 60_000} minutes)`
      child.kill('SIGKILL')
    }, options.timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      resolve({ code: error.message, output })
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? signal ?? 'unknown', output })
    })
  })
}

/** Bytes of the files under `path` (what `du` would count, roughly: file sizes, links not followed). */
async function folderBytes(path: string): Promise<number> {
  const stat = await lstat(path)
  if (!stat.isDirectory()) return stat.size
  let total = 0
  for (const entry of await readdir(path)) total += await folderBytes(join(path, entry))
  return total
}
