import type { ContractSchemas } from './contractSchemas.js'
import { checkAgainstHistory, type HistoryCheck } from './historyCheck.js'
import { checkWithRegistry, requiredCompatibilityLevel, type RegistryCheck } from './registryCheck.js'
import { SchemaInvalidError } from './schemaInvalidError.js'

export type SchemaGateOptions = {
  contracts: readonly ContractSchemas[]
  /**
   * The registry's Confluent-compatible API, e.g. http://127.0.0.1:8080/apis/ccompat/v7. When set,
   * each working schema must also pass the registry's check against the versions registered
   * there: in production the registry, not history/, is what producers and consumers use.
   */
  registryUrl?: string
  /** Per registry request; default 10 000 ms. */
  requestTimeoutMs?: number
}

export type ContractReport = {
  subject: string
  ok: boolean
  /** The working schema against history/; a SchemaInvalidError when a schema is not valid Avro. */
  history: HistoryCheck | SchemaInvalidError
  /** The registry's verdict, when a registry URL was given. */
  registry?: RegistryCheck | SchemaInvalidError
  /** Why the contract fails, one line each, starting with the subject; empty when it passes. */
  problems: string[]
  /** Where it stands when it passes (latest release or new version, the registry's verdict), and notes. */
  details: string[]
}

export type SchemaGateReport = {
  ok: boolean
  contracts: ContractReport[]
  /** For people: a first line with the verdict, then the problems, then the details. */
  summary: string
}

/**
 * The compatibility gate: each contract's working schema against every released version
 * (BACKWARD_TRANSITIVE), always; and, given a registry URL, the registry's own verdict against
 * the versions registered under the subject, whose level must be BACKWARD_TRANSITIVE. Throws
 * SchemaRegistryError when the registry is unreachable or answers unexpectedly: that is no verdict.
 */
export async function checkSchemas(options: SchemaGateOptions): Promise<SchemaGateReport> {
  const { registryUrl } = options
  const contracts = await Promise.all(options.contracts.map((contract) => checkContract(contract, options)))
  const failed = contracts.filter((c) => !c.ok)
  const where = registryUrl === undefined ? 'history/ only' : `history/ and the registry at ${registryUrl}`
  const verdict =
    failed.length === 0
      ? `schemas check passed: ${count(contracts.length, 'contract')} (${where})`
      : `schemas check FAILED: ${failed.length} of ${count(contracts.length, 'contract')} (${where})`
  return {
    ok: failed.length === 0,
    contracts,
    summary: [verdict, ...contracts.flatMap((c) => c.problems), ...contracts.flatMap((c) => c.details)].join(
      '\n',
    ),
  }
}

async function checkContract(contract: ContractSchemas, options: SchemaGateOptions): Promise<ContractReport> {
  const { registryUrl, requestTimeoutMs } = options
  let history: HistoryCheck | SchemaInvalidError
  try {
    history = checkAgainstHistory(contract.current, contract.released)
  } catch (error) {
    history = invalidOrThrow(error)
  }
  if (registryUrl === undefined || history instanceof SchemaInvalidError)
    return reportContract(contract, { history })
  let registry: RegistryCheck | SchemaInvalidError
  try {
    registry = await checkWithRegistry({
      registryUrl,
      subject: contract.subject,
      schema: contract.current,
      ...(requestTimeoutMs !== undefined && { requestTimeoutMs }),
    })
  } catch (error) {
    registry = invalidOrThrow(error)
  }
  return reportContract(contract, { history, registry })
}

/** A schema that is not valid Avro is the gate's finding; anything else (the registry down) is not. */
function invalidOrThrow(error: unknown): SchemaInvalidError {
  if (error instanceof SchemaInvalidError) return error
  throw error
}

/** Turns the checks of one contract into its verdict and lines. Pure. */
export function reportContract(
  contract: ContractSchemas,
  checks: { history: HistoryCheck | SchemaInvalidError; registry?: RegistryCheck | SchemaInvalidError },
): ContractReport {
  const { subject } = contract
  const { history, registry } = checks
  const problems: string[] = []
  const details: string[] = []

  if (history instanceof SchemaInvalidError) {
    problems.push(`${subject}: ${history.message}`)
  } else {
    for (const { version, breakingChanges } of history.versions) {
      for (const change of breakingChanges) {
        problems.push(`${subject}: breaking change against v${version}: ${change.message}`)
      }
    }
    if (history.compatible) details.push(`${subject}: ${describeRelease(contract, history)}`)
  }

  if (registry instanceof SchemaInvalidError) {
    problems.push(`${subject}: ${registry.message}`)
  } else if (registry) {
    const registryProblems = registryProblemsOf(contract, registry)
    problems.push(...registryProblems)
    if (registryProblems.length === 0) details.push(...registryDetailsOf(contract, registry))
  }

  return {
    subject,
    ok: problems.length === 0,
    history,
    ...(registry && { registry }),
    problems,
    details,
  }
}

function describeRelease(contract: ContractSchemas, history: HistoryCheck): string {
  const { release } = history
  const compatibleWith =
    history.versions.length === 0
      ? 'no released version yet'
      : `compatible with ${history.versions.map((v) => `v${v.version}`).join(', ')} (BACKWARD_TRANSITIVE: every released version)`
  if (release.status === 'latest') {
    return `the working schema is v${release.version}, the latest released version; ${compatibleWith}`
  }
  const copy = `copy ${contract.file} to history/${contract.subject}/v${release.nextVersion}.avsc to release it`
  if (release.latestVersion === undefined) {
    return `the working schema is the first version of a new subject: ${copy}`
  }
  const how = release.canonicalFormChanged
    ? ''
    : ` (it differs from v${release.latestVersion} only outside the canonical form: documentation, defaults, aliases or other attributes)`
  return `the working schema is a compatible new version, not yet released${how}; ${compatibleWith}: ${copy}`
}

function registryProblemsOf(contract: ContractSchemas, registry: RegistryCheck): string[] {
  const { subject } = contract
  const at = `at ${registry.registryUrl}`
  const problems: string[] = []
  if (registry.registeredVersions.length === 0) {
    // Nothing registered means nothing to check against: fine for a new subject, a gap otherwise.
    if (contract.released.length > 0) {
      problems.push(
        `${subject}: not registered ${at}, so the registry cannot check it; register the ` +
          `${count(contract.released.length, 'released version')} first (registerHistory)`,
      )
    }
  } else if (!registry.compatibilityLevelOk) {
    problems.push(
      `${subject}: compatibility level ${at} is ${registry.compatibilityLevel ?? 'not set'}, expected ` +
        `${requiredCompatibilityLevel}, so the registry's verdict does not cover every version ` +
        `(set it: PUT /config/${subject})`,
    )
  }
  if (registry.compatible === false) {
    const reasons = registry.versions.flatMap(({ version, breakingChanges }) =>
      breakingChanges.map(
        (change) => `${subject}: breaking change against v${version} registered ${at}: ${change.message}`,
      ),
    )
    problems.push(
      ...(reasons.length > 0
        ? reasons
        : [
            `${subject}: the registry ${at} refuses the working schema as incompatible with registered ` +
              `versions ${registry.registeredVersions.join(', ')}; the local check finds no field-level reason`,
          ]),
    )
  }
  return problems
}

function registryDetailsOf(contract: ContractSchemas, registry: RegistryCheck): string[] {
  const { subject } = contract
  const at = `at ${registry.registryUrl}`
  if (registry.registeredVersions.length === 0) {
    return [`${subject}: not registered ${at} yet; its first registration starts the registry's history`]
  }
  const details = [
    `${subject}: the registry ${at} accepts it against registered ` +
      `${registry.registeredVersions.length === 1 ? 'version' : 'versions'} ${registry.registeredVersions.join(', ')} ` +
      `(${registry.compatibilityLevel})`,
  ]
  const localReasons = registry.versions.flatMap((v) =>
    v.breakingChanges.map((c) => `v${v.version}: ${c.message}`),
  )
  if (localReasons.length > 0) {
    details.push(`${subject}: note: the local check disagrees about registered ${localReasons.join('; ')}`)
  }
  if (registry.registeredVersions.length !== contract.released.length) {
    details.push(
      `${subject}: note: the registry has ${count(registry.registeredVersions.length, 'version')}, ` +
        `history/ ${count(contract.released.length, 'released version')}`,
    )
  }
  return details
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
