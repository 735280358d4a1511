export type ForwarderSectionOptions = {
  brokers: string[]
  registryUrl: string
  env: NodeJS.ProcessEnv
}

/** Placeholder until the forwarder service's benchmark lands. */
export async function forwarderSection(options: ForwarderSectionOptions): Promise<void> {
  void options
  await Promise.resolve()
  throw new Error('the forwarder benchmark section is not written yet')
}
