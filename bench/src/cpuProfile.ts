import { writeFileSync } from 'node:fs'
import type { Profiler, Runtime } from 'node:inspector'
import { Session } from 'node:inspector/promises'
import { fileURLToPath } from 'node:url'

export type CpuProfileSummary = {
  /** Sampled time, ms. */
  totalMs: number
  /** Time the thread waited for I/O, ms: V8's (idle) node. */
  idleMs: number
  /** Self time by function, most first. */
  functions: { name: string; where: string; selfMs: number }[]
  /**
   * Time by package (kafkajs, avsc, @audit-pipeline/…, GC), most first: `selfMs` in its own code,
   * `withRuntimeMs` also counting the node internals and V8 builtins it called (Buffer copies,
   * string decoding), which are otherwise listed on their own.
   */
  packages: { name: string; selfMs: number; withRuntimeMs: number }[]
}

/**
 * Runs `run` under V8's sampling CPU profiler on this thread (node:inspector, no child process)
 * and sums the samples into self time per function and per package: where the time goes. With
 * `saveTo`, the whole profile is written there too, for Chrome DevTools or speedscope.
 */
export async function cpuProfiled<T>(
  run: () => Promise<T>,
  options: { samplingIntervalUs?: number; saveTo?: string } = {},
): Promise<{ result: T; profile: CpuProfileSummary }> {
  const { samplingIntervalUs = 500, saveTo } = options
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs })
    await session.post('Profiler.start')
    const outcome = await run().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    )
    const { profile } = await session.post('Profiler.stop')
    if (saveTo) writeFileSync(saveTo, JSON.stringify(profile))
    if (!outcome.ok) throw outcome.error
    return { result: outcome.value, profile: summarize(profile) }
  } finally {
    session.disconnect()
  }
}

function summarize(profile: Profiler.Profile): CpuProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const selfUs = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  // Sample i lasts until sample i + 1 is taken.
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] ?? 0
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? 0))
  }
  const parents = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
  const runtime = new Set(['node internals', 'V8 builtins and native code'])
  // The package whose code called this runtime frame: the nearest caller that is not runtime.
  const chargedTo = (id: number, owner: string): string => {
    for (let at = parents.get(id); at !== undefined; at = parents.get(at)) {
      const frame = nodes.get(at)?.callFrame
      if (!frame || frame.functionName === '(root)') break
      const caller = ownerOf(frame)
      if (!runtime.has(caller)) return caller
    }
    return owner
  }

  const functions = new Map<string, { name: string; where: string; selfMs: number }>()
  const packages = new Map<string, { name: string; selfMs: number; withRuntimeMs: number }>()
  const packageEntry = (name: string) => {
    let entry = packages.get(name)
    if (!entry) packages.set(name, (entry = { name, selfMs: 0, withRuntimeMs: 0 }))
    return entry
  }
  let totalMs = 0
  let idleMs = 0
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame
    if (!frame) continue
    const ms = us / 1000
    totalMs += ms
    if (frame.functionName === '(idle)') {
      idleMs += ms
      continue
    }
    const where = frame.url ? `${shortPath(frame.url)}:${frame.lineNumber + 1}` : ''
    const name = frame.functionName || '(anonymous)'
    const key = `${name} ${where}`
    const entry = functions.get(key) ?? { name, where, selfMs: 0 }
    entry.selfMs += ms
    functions.set(key, entry)
    const owner = ownerOf(frame)
    packageEntry(owner).selfMs += ms
    packageEntry(runtime.has(owner) ? chargedTo(id, owner) : owner).withRuntimeMs += ms
  }
  return {
    totalMs,
    idleMs,
    functions: [...functions.values()].sort((a, b) => b.selfMs - a.selfMs),
    packages: [...packages.values()].sort((a, b) => b.withRuntimeMs - a.withRuntimeMs),
  }
}

function pathOf(url: string): string {
  return url.startsWith('file:') ? fileURLToPath(url) : url
}

function shortPath(url: string): string {
  const path = pathOf(url)
  const inModules = path.lastIndexOf('/node_modules/')
  if (inModules >= 0) return path.slice(inModules + '/node_modules/'.length)
  return path.startsWith(`${process.cwd()}/`) ? path.slice(process.cwd().length + 1) : path
}

function ownerOf(frame: Runtime.CallFrame): string {
  if (frame.functionName === '(garbage collector)') return 'garbage collector'
  if (frame.functionName === '(program)') return 'V8 outside JavaScript (program)'
  if (!frame.url) return 'V8 builtins and native code'
  if (frame.url.startsWith('node:')) return 'node internals'
  const path = pathOf(frame.url)
  const dependency = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(path)
  if (dependency) return dependency[1] ?? 'other'
  const workspace = /\/(?:packages|services)\/([^/]+)\//.exec(path)
  if (workspace) return `@audit-pipeline/${workspace[1]}`
  if (/\/schemas\/dist\//.test(path)) return '@audit-pipeline/schemas'
  if (/\/bench\/dist\//.test(path)) return 'bench'
  return 'other'
}
