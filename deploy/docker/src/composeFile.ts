import { posix } from 'node:path'
import { parse } from 'yaml'

/** The parts of a compose service these checks read. */
export type ComposeService = {
  image?: string
  build?: { context?: string; dockerfile?: string; target?: string }
  environment?: Record<string, string | number | boolean | null>
  volumes?: string[]
  ports?: string[]
  depends_on?: Record<string, { condition: string }>
  command?: string | string[]
}

export type ComposeFile = { services: Record<string, ComposeService> }

/**
 * Reads a compose file as `docker compose` would: merge keys (`<<: *anchor`) applied and
 * `${VAR:-default}` interpolated from `env`. A `${VAR}` that `env` lacks and that has no default
 * is an error here, where compose would quietly use an empty string.
 */
export function readComposeFile(text: string, env: Record<string, string | undefined>): ComposeFile {
  return interpolateAll(parseComposeFile(text), env) as ComposeFile
}

/** The compose file as written: merge keys applied, `${…}` left as they are (comments dropped). */
export function parseComposeFile(text: string): ComposeFile {
  return parse(text, { merge: true }) as ComposeFile
}

/** One `${…}` of a compose value: its variable, and what an unset one gives (`:-` default, `:?` error). */
export type Interpolation = {
  variable: string
  /** `:-`, `-`, `:?`, `?`; undefined for a bare `${VAR}` or `$VAR`. */
  operator: string | undefined
  /** The default or the error message. */
  word: string | undefined
}

/** Every interpolation in the values of `value` (a parsed compose file, or part of one). */
export function interpolationsIn(value: unknown): Interpolation[] {
  if (typeof value === 'string') {
    return [...value.matchAll(interpolation)].flatMap(([, dollar, name, colon, op, word, bare]) =>
      dollar ? [] : [{ variable: (name ?? bare)!, operator: op ? `${colon ?? ''}${op}` : undefined, word }],
    )
  }
  if (Array.isArray(value)) return value.flatMap(interpolationsIn)
  if (value && typeof value === 'object') return Object.values(value).flatMap(interpolationsIn)
  return []
}

function interpolateAll(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env)
  if (Array.isArray(value)) return value.map((item) => interpolateAll(item, env))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateAll(item, env)]))
  }
  return value
}

/** `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`. */
const interpolation =
  /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g

/** Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    interpolation,
    (whole, dollar?: string, name?: string, colon?: string, op?: string, word?: string, bare?: string) => {
      if (dollar) return '$'
      const variable = (name ?? bare)!
      const value = env[variable]
      const missing = colon ? !value : value === undefined
      if (!missing) return value!
      if (op === '-') return word!
      if (op === '?') throw new Error(`${variable} is required: ${word}`)
      throw new Error(`${whole}: ${variable} is not set and has no default`)
    },
  )
}

/** A service's environment as the process sees it: every value a string. */
export function serviceEnvironment(service: ComposeService): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [
      name,
      value === null ? '' : String(value),
    ]),
  )
}

/**
 * The files and folders a service mounts, container path to path in the repository
 * (`./deploy/x.yaml:/etc/x.yaml:ro`); named volumes are left out.
 */
export function mountedFiles(service: ComposeService, repoRoot: string): Map<string, string> {
  const files = new Map<string, string>()
  for (const volume of service.volumes ?? []) {
    const [source, target] = volume.split(':')
    // Host paths only (relative to the repository, or absolute); a named volume holds no file of ours.
    if (!source || !target || !(source.startsWith('.') || source.startsWith('/'))) continue
    files.set(target, source.startsWith('/') ? source : posix.join(repoRoot, source))
  }
  return files
}

/**
 * Where a container path lives in the repository: a mounted file itself, or a file inside a
 * mounted folder (the longest mount that holds it); undefined when nothing mounted holds it.
 */
export function mountedPath(files: ReadonlyMap<string, string>, containerPath: string): string | undefined {
  const exact = files.get(containerPath)
  if (exact !== undefined) return exact
  const folders = [...files.keys()]
    .filter((target) => containerPath.startsWith(`${target}/`))
    .sort((a, b) => b.length - a.length)
  const folder = folders[0]
  return folder === undefined
    ? undefined
    : posix.join(files.get(folder)!, containerPath.slice(folder.length + 1))
}

/** Whether a volume is mounted read-only (`…:ro`). */
export function isReadOnly(volume: string): boolean {
  return volume.split(':')[2]?.split(',').includes('ro') ?? false
}
