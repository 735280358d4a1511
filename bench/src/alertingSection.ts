export type AlertingSectionOptions = {
  brokers: string[]
  registryUrl: string
  env: NodeJS.ProcessEnv
}

/** Placeholder until the alerting service's benchmark lands. */
export async function alertingSection(options: AlertingSectionOptions): Promise<void> {
  void options
  await Promise.resolve()
  throw new Error('the alerting benchmark section is not written yet')
}
