import { checkSchemas, contracts, loadContractSchemas, registerHistory } from '@audit-pipeline/schemas'

/**
 * `audit-pipeline schemas check`: the working tree's schemas against their released history,
 * and against a registry's registered versions when one is given.
 */
export async function schemasCheckCommand(
  registryUrl: string | undefined,
  out: (line: string) => void,
): Promise<number> {
  const report = await checkSchemas({
    contracts: contracts.map(loadContractSchemas),
    ...(registryUrl && { registryUrl }),
  })
  out(report.summary)
  return report.ok ? 0 : 1
}

/** `audit-pipeline schemas register`: every released version, in order, at BACKWARD_TRANSITIVE. */
export async function schemasRegisterCommand(
  registryUrl: string,
  out: (line: string) => void,
): Promise<number> {
  for (const contract of contracts.map(loadContractSchemas)) {
    const registered = await registerHistory({
      registryUrl,
      subject: contract.subject,
      versions: contract.released,
    })
    out(
      `${contract.subject}: ${registered.map((r) => `v${r.version} → id ${r.id}`).join(', ')} (BACKWARD_TRANSITIVE)`,
    )
  }
  return 0
}
