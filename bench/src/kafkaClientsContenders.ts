import { join } from 'node:path'

/**
 * The Kafka clients the `kafka-clients` section compares (issue 18): kafkajs, which the services
 * use, and the contenders, which are no dependency of the repository. A contender is installed on
 * demand into a cache folder of its own, pinned, the first time the section runs (the confluent
 * client compiles librdkafka for minutes: no `npm install` of the repository should pay for that).
 * Pure: what to install, where and with what; kafkaClientsInstall.ts does it.
 */

export const kafkaClientNames = ['kafkajs', 'confluent', 'platformatic'] as const
export type KafkaClientName = (typeof kafkaClientNames)[number]

export type Contender = {
  name: KafkaClientName
  packageName: string
  /** Pinned: a run measures one known version. */
  version: string
  /** What it is, for the report. */
  description: string
  /**
   * `engines.node` of the pinned version as published, checked before installing (to say why
   * without installing) and again against the installed package.json.
   */
  nodeEngines?: string
  /** A native addon built for one Node.js ABI: the cache folder is per ABI (process.versions.modules). */
  native: boolean
  /** Environment for `npm install`. */
  installEnv: Readonly<Record<string, string>>
}

/** kafkajs is the repository's own dependency (bench/package.json): the baseline, never installed here. */
export const baseline = {
  name: 'kafkajs',
  packageName: 'kafkajs',
  description: 'pure JavaScript, the client the services use (baseline)',
} as const

export const contenders: readonly Contender[] = [
  {
    name: 'confluent',
    packageName: '@confluentinc/kafka-javascript',
    version: '1.10.1',
    description: 'librdkafka 2.15 through its KafkaJS-compatible API',
    nodeEngines: '>=18.0.0',
    native: true,
    // No prebuilt binary can be downloaded here: node-pre-gyp falls back to compiling librdkafka,
    // linked against the system's libssl and zlib (libssl-dev, zlib1g-dev) rather than building
    // its own OpenSSL.
    installEnv: { CKJS_LINKING: 'dynamic' },
  },
  {
    name: 'platformatic',
    packageName: '@platformatic/kafka',
    version: '2.12.1',
    description: 'pure TypeScript',
    nodeEngines: '>= 22.22.0 || >= 24.6.0',
    native: false,
    installEnv: {},
  },
]

/** The folder a contender is installed into: `<root>/<package>@<version>[-node-abi<N>]`. */
export function contenderFolder(contender: Contender, options: { root: string; nodeAbi: string }): string {
  const name = `${contender.packageName.replace('/', '+')}@${contender.version}`
  return join(options.root, contender.native ? `${name}-node-abi${options.nodeAbi}` : name)
}

/** The cache root under the repository's cache (`~/.cache/audit-pipeline` unless AUDIT_CACHE_DIR). */
export function contendersRoot(cacheDir: string): string {
  return join(cacheDir, 'kafka-clients')
}

/**
 * `npm install` of one pinned contender into `folder`, with nothing saved anywhere: no
 * package.json, no lock file. `nodeDir` (a Node.js installation with its headers, include/node)
 * is where node-gyp finds the headers of the Node.js that will load a native addon; without it,
 * node-gyp would download them, which this machine cannot.
 */
export function installCommand(
  contender: Contender,
  options: { folder: string; nodeDir?: string },
): { args: string[]; env: Record<string, string> } {
  return {
    args: [
      'install',
      '--prefix',
      options.folder,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `${contender.packageName}@${contender.version}`,
    ],
    env: {
      ...contender.installEnv,
      ...(options.nodeDir !== undefined && { npm_config_nodedir: options.nodeDir }),
    },
  }
}

/**
 * Whether Node.js `version` (e.g. 'v20.20.2') satisfies an `engines.node` range made of `||`
 * alternatives of space-separated comparators (`>=`, `>`, `<=`, `<`, `=`, or a bare version,
 * partial versions allowed: `>=22`). Undefined for anything else (`^`, `~`, `x`, hyphen ranges):
 * the section then tries the client anyway.
 */
export function satisfiesNodeRange(version: string, range: string): boolean | undefined {
  const current = parseVersion(version.replace(/^v/, ''))
  if (!current) return undefined
  let anySatisfied = false
  for (const alternative of range.split('||')) {
    // `>= 22.22.0` and `>=22.22.0` alike: join an operator to the version after it.
    const comparators = alternative
      .trim()
      .replace(/([<>]=?|=)\s+/g, '$1')
      .split(/\s+/)
      .filter(Boolean)
    if (comparators.length === 0) return undefined
    let all = true
    for (const comparator of comparators) {
      const match = /^(>=|<=|>|<|=)?v?(\d+(?:\.\d+){0,2})$/.exec(comparator)
      const bound = match && parseVersion(match[2] ?? '')
      if (!match || !bound) return undefined
      const order = compareVersions(current, bound)
      const operator = match[1] ?? '='
      const holds =
        operator === '>='
          ? order >= 0
          : operator === '>'
            ? order > 0
            : operator === '<='
              ? order <= 0
              : operator === '<'
                ? order < 0
                : order === 0
      if (!holds) all = false
    }
    if (all) anySatisfied = true
  }
  return anySatisfied
}

function parseVersion(text: string): [number, number, number] | undefined {
  const parts = text.split('.')
  if (parts.length > 3 || parts.some((part) => !/^\d+$/.test(part))) return undefined
  const [major = 0, minor = 0, patch = 0] = parts.map(Number)
  return [major, minor, patch]
}

function compareVersions(a: [number, number, number], b: [number, number, number]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0)
  return 0
}
